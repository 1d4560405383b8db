"""Official labels, bought exactly once (docs/adr/0007-label-purchase.md): `purchase` holds the money path. Import
from the module that defines a name."""
