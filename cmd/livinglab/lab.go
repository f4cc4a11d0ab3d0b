package main

import "github.com/spf13/cobra"

// labCmds returns the commands for the region's private lab data.
func labCmds() []*cobra.Command { return nil }
