"""The ticket queue: import exports, find recurring problems and documentation gaps, similar past cases, SLA."""
