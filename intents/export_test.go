package intents

import "context"

// SetBeforeExact has f run as Sync starts to retrain an interim snapshot
// from scratch.
func SetBeforeExact(r *Router, f func(context.Context)) { r.beforeExact = f }
