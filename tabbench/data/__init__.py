"""Tables, schemas, preprocessing fitted on the training rows, splits, and the data files they come from."""
