package policy

// Compliance states, as Azure reports them.
const (
	StateCompliant    = "Compliant"
	StateNonCompliant = "NonCompliant"
	StateConflict     = "Conflict"
	StateExempt       = "Exempt"
	StateUnknown      = "Unknown"
)
