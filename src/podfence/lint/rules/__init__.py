"""The lint rules, one module per family; :mod:`podfence.lint.registry` lists them."""
