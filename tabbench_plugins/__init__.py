"""tabbench's built-in plugins, installed as the package ``tabbench_plugins``.

Each module is registered through the ``tabbench`` entry-point group, exactly as a third-party plugin.
"""
