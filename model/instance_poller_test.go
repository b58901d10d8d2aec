package model

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// pollerCases are poller configurations as stored: the seeds' (object and
// JSON-string forms) and ones Poller() refuses, at the top level or only in
// a resource's fields. refused says whether Poller() fails.
func pollerCases(t *testing.T) []struct {
	name    string
	raw     string
	refused bool
} {
	pipedrive := seedPoller(t, seedPipedrivePolling)
	closeio := seedPoller(t, seedClosePolling)
	quoted := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// badField is the pipedrive seed with one of accounts' fields spoiled.
	badField := func(old, new string) string {
		if !strings.Contains(pipedrive, old) {
			t.Fatalf("seed lacks %q", old)
		}
		return strings.Replace(pipedrive, old, new, 1)
	}
	return []struct {
		name    string
		raw     string
		refused bool
	}{
		{"pipedrive seed", pipedrive, false},
		{"closeio seed", closeio, false},
		{"pipedrive default", mustElement(t, "pipedrive").DefaultPoller, false},
		{"closeio default", mustElement(t, "closeio").DefaultPoller, false},
		{"pipedrive seed as JSON string", quoted(pipedrive), false},
		{"closeio seed as padded JSON string", "  " + quoted("\n"+closeio+"  ") + "\n", false},
		{"absent", "", false},
		{"blank", " \n\t ", false},
		{"escaped key", `{"acc\u006funts": {"url": "/hubs/crm/accounts", "idField": "id", "filterByUpdatedDate": false}}`, false},

		{"syntax error in a value", `{"accounts": nope}`, true},
		{"trailing garbage", pipedrive + " x", true},
		{"truncated", pipedrive[:len(pipedrive)/2], true},
		{"array", `[{"url": "/x"}]`, true},
		{"null", `null`, true},
		{"empty object", `{}`, true},
		{"number", `42`, true},
		{"JSON string holding nothing", `" "`, true},
		{"JSON string holding an empty object", quoted("{}"), true},
		{"JSON string with a bad escape", `"{\q}"`, true},
		{"JSON string holding a syntax error", quoted(`{"accounts": nope}`), true},
		{"resource not an object", `{"accounts": 5, "contacts": {"url": "/c", "idField": "id", "filterByUpdatedDate": false}}`, true},
		{"duplicate key, last not an object", `{"a": {"url": "/a", "idField": "id", "filterByUpdatedDate": false}, "a": []}`, true},
		{"resource missing idField", `{"accounts": {"url": "/a", "filterByUpdatedDate": false}}`, true},
		{"bad URL template", badField("${date:yyyy-MM-dd HH:mm:ss}'", "${date:yyyy-MM-dd HH:mm:ss'"), true},
		{"bad where clause", badField("where=update_time>'", "where=update_time>>'"), true},
		{"bad date pattern", badField(`"updatedDateFormat": "yyyy-MM-dd HH:mm:ss"`, `"updatedDateFormat": "yyyy-MM-dd HH:mm:ss'"`), true},
		{"bad time zone", badField(`"updatedDateFormat": "yyyy-MM-dd HH:mm:ss"`, `"updatedDateFormat": "yyyy-MM-dd HH:mm:ss", "updatedDateTimezone": "Mars/Olympus"`), true},
		{"bad page size as JSON string", quoted(badField(`"idField": "id"`, `"idField": "id", "pageSize": 0`)), true},
	}
}

func mustElement(t testing.TB, key string) Element {
	el, ok := LookupElement(key)
	if !ok {
		t.Fatalf("no element %s", key)
	}
	return el
}

// KeepsPollerResource and DroppedPollerResources answer as Poller() does:
// a resource is kept when the configuration names it or is refused; and
// the top-level keys read are exactly Poller()'s resources.
func TestPollerResourceNamesAgreeWithPoller(t *testing.T) {
	for _, tc := range pollerCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := Instance{Configuration: map[string]string{}}
			if tc.raw != "" {
				in.Configuration[KeyPollerConfiguration] = tc.raw
			}
			pc, err := in.Poller()
			if (err != nil) != tc.refused {
				t.Fatalf("Poller() error %v, want refused %v", err, tc.refused)
			}
			names, ok := in.pollerResourceNames()
			switch {
			case err == nil && !ok:
				t.Fatalf("names not read, but Poller() gives %v", pc.Resources())
			case err == nil && !reflect.DeepEqual(sortedKeys(names), pc.Resources()):
				t.Fatalf("names %v, Poller() %v", sortedKeys(names), pc.Resources())
			}
			candidates := []string{"accounts", "contacts", "opportunities", "leads", "a", "Contacts", ""}
			candidates = append(candidates, sortedKeys(names)...)
			var want []string
			for _, r := range candidates {
				_, has := pc[r]
				kept := err != nil || has
				if got := in.KeepsPollerResource(r); got != kept {
					t.Errorf("KeepsPollerResource(%q) = %v, want %v", r, got, kept)
				}
				if !kept {
					want = append(want, r)
				}
			}
			if got := in.DroppedPollerResources(candidates); !slices.Equal(got, want) {
				t.Errorf("DroppedPollerResources = %q, want %q", got, want)
			}
		})
	}
}

// BenchmarkKeepsPollerResource compares the check of a named resource with
// the full parse it replaced.
func BenchmarkKeepsPollerResource(b *testing.B) {
	in := Instance{Configuration: map[string]string{KeyPollerConfiguration: mustElement(b, "pipedrive").DefaultPoller}}
	b.Run("Poller", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			pc, err := in.Poller()
			if _, ok := pc["contacts"]; err != nil || !ok {
				b.Fatal("contacts not kept")
			}
		}
	})
	b.Run("KeepsPollerResource", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !in.KeepsPollerResource("contacts") {
				b.Fatal("contacts not kept")
			}
		}
	})
	b.Run("DroppedPollerResources/dropped", func(b *testing.B) {
		b.ReportAllocs()
		have := []string{"accounts", "contacts", "leads"}
		for i := 0; i < b.N; i++ {
			if len(in.DroppedPollerResources(have)) != 1 {
				b.Fatal("leads not dropped")
			}
		}
	})
}
