"""What every encoder shares (feature order, importance, colormaps) and previews of encoded rows."""
