__version__ = "0.1.0"

# Before anything else of the package (and so before torch or numpy compute): the portable kernel paths, unless
# ADV_KT_KERNELS=native (adv_kt.core, "Kernels"); one line of warning if torch computed before this import.
from .core import pin_kernels as _pin, warn_if_unpinned as _warn
_pin(); _warn()
