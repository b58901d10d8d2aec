package main

import "github.com/eventdesk/eventdesk/provider/fakepipedrive"

// pdBody is the body of delivery n: Pipedrive's v2 "Update person" example
// with a meta.id of its own.
var pdBody = fakepipedrive.UpdatePersonWebhook
