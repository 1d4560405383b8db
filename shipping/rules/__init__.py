"""Logistics rules, by concern: `schema` (the stored JSON), `facts` (what an order is), `engine`
(matching and choosing a service), `services` (writes). Import from the module that defines a name."""
