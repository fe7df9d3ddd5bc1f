"""The command line (``perfkit ...``): the top of the stack.

``main`` parses each command and hands it to the layers below; ``arguments`` checks options
before any work starts; ``check`` is ``perfkit check`` (inputs, marketplace rules, data day). Nothing imports this package.
"""
