"""The shipping dashboard's screens, one module per screen group (batches, packing, at_risk, compliance, handoffs,
pickup, rules); their forms are in `shipping.forms`. Import from the module that defines a name."""
