"""Warehouse printing: `toolkit` (the PDF helpers every document is drawn with), `batch` (the orders a batch's
documents are drawn from, in picking order), one module per document (`labels`, `pick_list`, `packing_slips`,
`pickup_manifest`) and `printing` (which warehouse's documents a request may print). Import from the module that
defines a name."""
