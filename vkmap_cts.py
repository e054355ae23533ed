"""The suite's one import name.  ``vkmap_cts.fixtures``, ``vkmap_cts.reports`` and
``vkmap_cts.suites`` are the folders beside this file: in a checkout, this module is their
package (a module with a ``__path__`` is one); an installed copy puts them in a
``vkmap_cts`` package of its own, so that no top-level ``fixtures`` or ``reports`` of
another project is ever shadowed."""

import os

__path__ = [os.path.dirname(os.path.abspath(__file__))]
