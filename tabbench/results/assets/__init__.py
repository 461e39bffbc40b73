"""The published page's stylesheet and script, inlined into index.html."""
