"""The recognition engine: model loading, the recognizer interface and its records."""
