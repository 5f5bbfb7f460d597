"""Training the NNS2 FaceNet: data preparation, teacher targets, losses, the training loop."""
