package model

import "testing"

// A patch switches Disabled only when it carries the field, a disabled
// instance never counts as polling, and an empty name is refused rather
// than stored.
func TestPatchDisabledAndName(t *testing.T) {
	on, off := true, false
	empty, blank, named := "", "  ", " New name "
	in := newPipedrive(t, map[string]any{KeyEventsEnabled: true, KeyVendorType: "polling"})
	if !in.Polling() {
		t.Fatal("the test instance should poll")
	}
	for _, c := range []struct {
		name     string
		req      InstanceRequest
		disabled bool
		wantName string
		problem  bool
	}{
		{"disable", InstanceRequest{Disabled: &on}, true, "Sales", false},
		{"enable", InstanceRequest{Disabled: &off}, false, "Sales", false},
		{"leave alone", InstanceRequest{Name: &named}, false, "New name", false},
		{"empty name", InstanceRequest{Name: &empty}, false, "", true},
		{"blank name", InstanceRequest{Name: &blank, Disabled: &on}, false, "", true},
	} {
		out, err := in.Patch(c.req, t1)
		if c.problem {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.For("name")) != 1 {
				t.Errorf("%s: %v, want one problem with name", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if out.Disabled != c.disabled || out.Name != c.wantName || out.Polling() == c.disabled {
			t.Errorf("%s: disabled %v name %q polling %v", c.name, out.Disabled, out.Name, out.Polling())
		}
	}
	// Creating one disabled is allowed too.
	req := request(t, "pipedrive", map[string]any{KeyPipedriveToken: "t"})
	req.Disabled = &on
	if created, err := NewInstance(req, t0); err != nil || !created.Disabled {
		t.Errorf("create disabled: %v, %v", created.Disabled, err)
	}
}
