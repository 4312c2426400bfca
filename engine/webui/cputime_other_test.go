//go:build !unix

package webui

import "time"

// cpuTime is unknown here.
func cpuTime() time.Duration { return -1 }
