"""The C generator: an int8 Graph to dependency-free C99 with a static memory plan."""

from leafml.codegen.generate import CModel, CodegenError, generate_c

__all__ = ["CModel", "CodegenError", "generate_c"]
