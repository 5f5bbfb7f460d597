"""Float (Keras) reference networks. Importing these modules imports TensorFlow; the runtime never does."""
