"""The driver: params, grid, study folder, executors and runner. It plans and runs cells as
notebooks and never imports TensorFlow, Keras or JAX itself."""
