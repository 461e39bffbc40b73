"""Plugin base classes, hook specifications, the plugin registry, specs and errors: the layer everything else stands on."""
