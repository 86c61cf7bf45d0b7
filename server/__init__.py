"""The ILO partnerships knowledge graph: vocabulary, data, shapes and the tools around them."""

from importlib.metadata import version

__version__ = version("ilo-partnerships-kg")
