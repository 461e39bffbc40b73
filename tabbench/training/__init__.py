"""Fine-tuning an image backbone on encoded rows, and pretrained weights lookup."""
