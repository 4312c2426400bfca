package engine

import (
	"context"

	"github.com/ripple-ops/ripple/definitions"
)

// ConfigApplier follows the applied commit, like a Prometheus component
// follows its configuration file: the daemon calls ApplyConfig from its
// goroutine with the definitions of the base commit at start-up and of
// each commit that becomes the base. A component keeps what did not change
// running, swaps what did, and on error keeps the last good configuration
// (the error says what it could not take).
type ConfigApplier interface {
	ApplyConfig(ctx context.Context, defs *definitions.Definitions) error
}

// ConfigApplierFunc adapts a function to ConfigApplier.
type ConfigApplierFunc func(ctx context.Context, defs *definitions.Definitions) error

// ApplyConfig calls f(ctx, defs).
func (f ConfigApplierFunc) ApplyConfig(ctx context.Context, defs *definitions.Definitions) error {
	return f(ctx, defs)
}
