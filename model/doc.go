// Package model is eventdesk's domain: the element catalogue, element
// instances and their configuration rules, poller configurations, normalized
// events and notifications. It is pure: no I/O, no clocks read, no goroutines,
// so every rule here can be table-tested.
package model
