"""Official labels, bought exactly once (docs/adr/0007-label-purchase.md). Import from the module that holds a name:

- `purchase`: the money path. Requesting a label, claiming it, buying or shipping the package, adopting a label the
  platform already has, failing with a fix, reconciling a purchase whose outcome is unknown. It talks to the
  `integrations.base.LabelProvider` protocol only, never to a platform adapter.
- `documents`: the bought label's PDF: downloaded and kept, read back from storage, fetched again when missing, and
  handed to the printouts with each order's pick lines.
- `batches`: which orders may get a label now, the batch that buys them, retrying its failed purchases, and when a
  batch is settled.
- `recovery`: label work whose broker message was lost, found in the rows and claimed for resending by beat.

`batches`, `documents` and `recovery` may import `purchase`; `purchase` imports none of them.
"""
