package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventdesk/eventdesk/model"
)

func TestFormShowsEveryProblemAtItsField(t *testing.T) {
	h := newHarness(t, nil, 100, 40)
	h.key("n", "right") // pipedrive
	f := h.top().(*formScreen)
	// Email without password, a bad callback with events on, a bad interval.
	f.field(model.KeyPipedriveEmail).setValue("ops@example.com")
	f.field(model.KeyEventsEnabled).setValue("true")
	f.field(model.KeyCallbackURL).setValue("not a url")
	f.field(model.KeyRefreshInterval).setValue("0")
	h.key("ctrl+s")
	if f.problems == nil || len(f.problems.Problems) != 3 {
		t.Fatalf("problems %+v", f.problems)
	}
	for _, k := range []string{model.KeyPipedrivePassword, model.KeyCallbackURL, model.KeyRefreshInterval} {
		if len(f.problems.For("configuration."+k)) == 0 {
			t.Errorf("no problem at %s", k)
		}
	}
	if got := f.fields[f.focus].key; got != model.KeyPipedrivePassword {
		t.Errorf("focus went to %s, want the first field with a problem", got)
	}
	h.contains("required by pipedrive (Password)", "must be a whole number of minutes", "must be an absolute http")
	if all, _ := h.st.Instances(); len(all) != 0 {
		t.Fatal("an invalid instance was stored")
	}
}

func TestFormElementSwitchKeepsCommonFields(t *testing.T) {
	h := newHarness(t, nil, 100, 30)
	h.key("n", "tab")
	h.typeText("Mine")
	h.key("shift+tab", "right")
	f := h.top().(*formScreen)
	if f.el.Key != "pipedrive" || f.field(fieldName).value() != "Mine" {
		t.Fatalf("element %s name %q", f.el.Key, f.field(fieldName).value())
	}
	if f.field(model.KeyPipedriveToken).kind != fieldSecret {
		t.Fatal("the API token should be a secret field")
	}
}

func TestFormSecretsMaskedAndKeptOnEdit(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("e")
	f := h.top().(*formScreen)
	if v := h.view(); strings.Contains(v, "pd-api-TOKEN") || !strings.Contains(v, "(stored, unchanged)") {
		t.Fatalf("edit form shows the secret or no mask:\n%s", v)
	}
	h.key("ctrl+r") // reveal shows typed values only; the stored one never reaches the form
	if strings.Contains(h.view(), "pd-api-TOKEN") {
		t.Fatal("reveal leaked the stored secret")
	}
	f.field(fieldName).setValue("Renamed")
	h.key("ctrl+s")
	got, err := st.Instance(pd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Renamed" || got.Configuration[model.KeyPipedriveToken] != "pd-api-TOKEN-abcdef" {
		t.Fatalf("saved %q token %q", got.Name, got.Configuration[model.KeyPipedriveToken])
	}
	if h.top().Title() != "Instances" {
		t.Fatalf("after save top = %s", h.top().Title())
	}
}

func TestFormReplacingAMaskedSecret(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	h := newHarness(t, st, 100, 30)
	h.key("e", "tab") // name → API token
	h.typeText("new-token")
	h.key("ctrl+s")
	got, _ := st.Instance(pd.ID)
	if got.Configuration[model.KeyPipedriveToken] != "new-token" {
		t.Fatalf("token %q", got.Configuration[model.KeyPipedriveToken])
	}
}

func TestFormUnsavedChangesConfirm(t *testing.T) {
	h := newHarness(t, nil, 100, 30)
	h.key("n", "esc")
	if h.top().Title() != "Instances" {
		t.Fatal("an untouched form should close on esc")
	}
	h.key("n", "tab")
	h.typeText("x")
	h.key("esc")
	h.contains("Discard your unsaved changes?")
	h.key("n")
	if h.top().Title() != "New instance" {
		t.Fatal("n should keep the form")
	}
	h.key("esc", "y")
	if h.top().Title() != "Instances" {
		t.Fatal("y should discard and leave")
	}
}

func TestFormImportJSONC(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "instance.json")
	// The Close seed's file has a trailing comma; comments are tolerated too.
	src := `{
  // Close seed
  "element": {"key": "closeio"},
  "configuration": {
    "username": "api_close_KEY",
    "event.notification.enabled": true,
    "event.vendor.type": "webhook",
    "event.notification.callback.url": "https://app.example.com/cb",
    "event.poller.configuration": {"contacts": {"url": "/hubs/crm/contacts", "idField": "id", "filterByUpdatedDate": false}},
  },
  "tags": ["seed"],
  "name": "Imported"
}`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, nil, 100, 30)
	h.key("n", "right", "ctrl+o") // start on pipedrive: the file switches it
	f := h.top().(*formScreen)
	f.path.SetValue(path)
	h.key("enter")
	if f.el.Key != "closeio" || f.field(fieldName).value() != "Imported" || !f.field(model.KeyEventsEnabled).on {
		t.Fatalf("import: element %s name %q", f.el.Key, f.field(fieldName).value())
	}
	if _, ok := f.extra[model.KeyPollerConfiguration]; !ok {
		t.Fatal("the poller configuration should be kept as an extra key")
	}
	h.key("ctrl+s")
	all, _ := h.st.Instances()
	if len(all) != 1 || all[0].Name != "Imported" || !strings.Contains(all[0].Configuration[model.KeyPollerConfiguration], "filterByUpdatedDate") {
		t.Fatalf("stored %+v", all)
	}

	// A broken file names line and column.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"name\": \"x\"\n  \"tags\": []\n}"), 0o600)
	h.key("n", "ctrl+o")
	h.top().(*formScreen).path.SetValue(bad)
	h.key("enter")
	if !strings.Contains(h.app.toast.text, "line 3, column 3") {
		t.Fatalf("toast %q", h.app.toast.text)
	}
}
