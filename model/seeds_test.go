package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The instance.json documents of the two seeds, verbatim (the Close webhook
// one keeps its trailing comma).

const seedPipedrivePolling = `{
  "element": {
    "key": "pipedrive"
  },
  "configuration": {
    "pipedrive.email": "<INSERT_PIPEDRIVE_EMAIL>",
    "pipedrive.password": "<INSERT_PIPEDRIVE_PASSWORD>",
    "event.notification.enabled": "true",
    "event.notification.callback.url": "<INSERT_YOUR_APPS_CALLBACK_URL>",
    "event.vendor.type": "polling",
    "event.poller.configuration": {
      "accounts": {
        "url": "/hubs/crm/accounts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
        "idField": "id",
        "datesConfiguration": {
          "updatedDateField": "update_time",
          "updatedDateFormat": "yyyy-MM-dd HH:mm:ss",
          "createdDateField": "add_time",
          "createdDateFormat": "yyyy-MM-dd HH:mm:ss"
        }
      },
      "contacts": {
        "url": "/hubs/crm/contacts?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
        "idField": "id",
        "datesConfiguration": {
          "updatedDateField": "update_time",
          "updatedDateFormat": "yyyy-MM-dd HH:mm:ss",
          "createdDateField": "add_time",
          "createdDateFormat": "yyyy-MM-dd HH:mm:ss"
        }
      },
      "opportunities": {
        "url": "/hubs/crm/opportunities?where=update_time>'${date:yyyy-MM-dd HH:mm:ss}'",
        "idField": "id",
        "datesConfiguration": {
          "updatedDateField": "update_time",
          "updatedDateFormat": "yyyy-MM-dd HH:mm:ss",
          "createdDateField": "add_time",
          "createdDateFormat": "yyyy-MM-dd HH:mm:ss"
        }
      }
    }
  },
  "tags": [
    "<INSERT_TAGS>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`

const seedPipedriveWebhook = `{
  "element": {
    "key": "pipedrive"
  },
  "configuration": {
    "pipedrive.email": "<INSERT_PIPEDRIVE_EMAIL>",
    "pipedrive.password": "<INSERT_PIPEDRIVE_PASSWORD>",
    "event.notification.enabled": "true",
    "event.notification.callback.url": "<INSERT_YOUR_APPS_CALLBACK_URL>",
    "event.vendor.type": "webhook"
  },
  "tags": [
    "<INSERT_TAGS>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`

const seedClosePolling = `{
  "element": {
    "key": "closeio"
  },
  "configuration": {
    "username": "<INSERT_CLOSE_IO_API_KEY>",
    "password": "<INSERT_CLOSE_IO_PASSWORD>",
    "event.notification.enabled": "true",
    "event.notification.callback.url": "<INSERT_YOUR_APPS_CALLBACK_URL>",
    "event.vendor.type": "polling",
    "event.poller.configuration": {
      "contacts": {
        "url": "/hubs/crm/contacts?where=date_updated>'${gmtDate:yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX}'",
        "idField": "id",
        "datesConfiguration": {
          "updatedDateField": "date_updated",
          "updatedDateFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
          "createdDateField": "date_created",
          "createdDateFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
        }
      }
    }
  },
  "tags": [
    "<INSERT_TAGS>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`

const seedCloseWebhook = `{
  "element": {
    "key": "closeio"
  },
  "configuration": {
    "username": "<INSERT_CLOSE_IO_API_KEY>",
    "password": "<INSERT_CLOSE_IO_PASSWORD>",
    "event.notification.enabled": "true",
    "event.notification.callback.url": "<INSERT_YOUR_APPS_CALLBACK_URL>",
    "event.vendor.type": "webhook",
  },
  "tags": [
    "<INSERT_TAGS>"
  ],
  "name": "<INSERT_INSTANCE_NAME>"
}`

// fillSeed replaces the seeds' placeholders with what a user would type.
var fillSeed = strings.NewReplacer(
	"<INSERT_PIPEDRIVE_EMAIL>", "sales@example.com",
	"<INSERT_PIPEDRIVE_PASSWORD>", "correct horse",
	"<INSERT_YOUR_APPS_CALLBACK_URL>", "https://app.example.com/ce-events",
	"<INSERT_TAGS>", "crm",
	"<INSERT_INSTANCE_NAME>", "Sales CRM",
	"<INSERT_CLOSE_IO_API_KEY>", "api_4Fz9example",
	"<INSERT_CLOSE_IO_PASSWORD>", "",
).Replace

var (
	t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

// decodeRequest reads an instance.json the way `instances create -f` does.
func decodeRequest(t *testing.T, doc string) InstanceRequest {
	t.Helper()
	var req InstanceRequest
	if err := json.Unmarshal(StripJSONC([]byte(doc)), &req); err != nil {
		t.Fatalf("decoding instance.json: %v", JSONError([]byte(doc), err))
	}
	return req
}

// request builds an instance request from Go values; configuration values
// are marshalled as given (strings, booleans, numbers, objects, nil).
func request(t *testing.T, element string, cfg map[string]any) InstanceRequest {
	t.Helper()
	req := InstanceRequest{Configuration: map[string]json.RawMessage{}}
	if element != "" {
		req.Element = &ElementRef{Key: element}
	}
	for k, v := range cfg {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %s: %v", k, err)
		}
		req.Configuration[k] = b
	}
	return req
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// seedPoller extracts the event.poller.configuration object of a seed.
func seedPoller(t *testing.T, doc string) string {
	t.Helper()
	req := decodeRequest(t, doc)
	return string(req.Configuration[KeyPollerConfiguration])
}

// problemsOf asserts err is a *ValidationError and returns its problems.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a validation error")
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("got %T (%v), want *ValidationError", err, err)
	}
	return ve.Problems
}
