//go:build race

package main

// raceEnabled is set when the tests run under the race detector, which
// makes the 100 MB streaming test too slow to run.
const raceEnabled = true
