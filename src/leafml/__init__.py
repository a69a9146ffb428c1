"""leafml: TinyML from data to a verified microcontroller build."""
__version__ = "0.1.0"
