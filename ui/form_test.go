package ui

import (
	"os"
	"path/filepath"
	"regexp"
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
	if all, _ := h.st.Instances(t.Context()); len(all) != 0 {
		t.Fatal("an invalid instance was stored")
	}
}

// A field corrected after a failed save loses its error as the user
// types; the other fields keep theirs until they are fixed too.
func TestFormRevalidatesAsYouType(t *testing.T) {
	for _, kind := range backendKinds {
		t.Run(kind, func(t *testing.T) {
			h := newHarnessOn(t, kind, nil, 100, 40)
			h.key("n", "right") // pipedrive
			f := h.top().(*formScreen)
			f.field(model.KeyEventsEnabled).setValue("true")
			f.field(model.KeyCallbackURL).setValue("not a url")
			f.field(model.KeyRefreshInterval).setValue("0")
			h.key("ctrl+s")
			h.contains("must be a whole number of minutes", "must be an absolute http")
			for i := range f.fields {
				if f.fields[i].key == model.KeyRefreshInterval {
					f.focus = i
				}
			}
			h.key("backspace")
			h.typeText("15")
			if got := f.fields[f.focus].key; got != model.KeyRefreshInterval {
				t.Fatalf("typing moved the focus to %s", got)
			}
			if strings.Contains(h.view(), "must be a whole number of minutes") {
				t.Fatalf("the corrected interval still shows its error:\n%s", h.view())
			}
			h.contains("must be an absolute http")
		})
	}
}

// Help is reachable in the form: '?' on a choice or a switch, f1 in a
// text field (where '?' is typed); it shows import and reveal.
func TestFormHelpReachable(t *testing.T) {
	h := newHarness(t, nil, 80, 24)
	h.key("n", "?") // the element field is a choice
	h.contains("Keys — New instance", "ctrl+o import instance.json", "ctrl+r    reveal secrets")
	h.key("esc", "tab") // name: a text field
	h.typeText("a?")
	f := h.top().(*formScreen)
	if got := f.fields[f.focus].value(); got != "a?" {
		t.Fatalf("'?' in a text field must be typed, name is %q", got)
	}
	h.key("f1")
	h.contains("Keys — New instance", "ctrl+o import instance.json")
	h.key("f1")
	if h.app.showHelp {
		t.Fatal("f1 must close help again")
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
	got, err := st.Instance(t.Context(), pd.ID)
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
	h.key("e", "tab", "tab") // name → tags → API token
	h.typeText("new-token")
	h.key("ctrl+s")
	got, _ := st.Instance(t.Context(), pd.ID)
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
	h.typeText(path) // typed, as a user does: nothing prefilled to append to
	h.key("enter")
	if f.el.Key != "closeio" || f.field(fieldName).value() != "Imported" || !f.field(model.KeyEventsEnabled).on {
		t.Fatalf("import: element %s name %q", f.el.Key, f.field(fieldName).value())
	}
	if _, ok := f.extra[model.KeyPollerConfiguration]; !ok {
		t.Fatal("the poller configuration should be kept as an extra key")
	}
	h.key("ctrl+s")
	all, _ := h.st.Instances(t.Context())
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

// starred tells which of the labels carry the required star in the form.
func starred(t *testing.T, view string, labels ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, l := range labels {
		re := regexp.MustCompile(`(?m)^ [ ▸]([ *])` + regexp.QuoteMeta(l) + `  `)
		m := re.FindStringSubmatch(view)
		if m == nil {
			t.Fatalf("no %s field in\n%s", l, view)
		}
		out[l] = m[1] == "*"
	}
	return out
}

// Alternatives (Pipedrive: API token, or Email + Password) are starred
// only while none is filled; then only the alternative being given is.
func TestFormStarsAlternativesAsValidationJudges(t *testing.T) {
	h := newHarness(t, nil, 100, 40)
	h.key("n", "right") // pipedrive
	f := h.top().(*formScreen)
	labels := []string{"API token", "Email", "Password", "Name", "Base URL"}
	check := func(what string, want map[string]bool) {
		t.Helper()
		got := starred(t, h.view(), labels...)
		for _, l := range labels {
			if got[l] != want[l] {
				t.Errorf("%s: %s starred %v, want %v\n%s", what, l, got[l], want[l], h.view())
			}
		}
	}
	check("nothing filled", map[string]bool{"API token": true, "Email": true, "Password": true})
	f.field(model.KeyPipedriveToken).setValue("tok")
	check("API token filled", map[string]bool{"API token": true})
	f.field(model.KeyPipedriveEmail).setValue("ops@example.com")
	check("API token and Email filled", map[string]bool{"API token": true})
	f.field(model.KeyPipedriveToken).setValue("")
	check("Email filled", map[string]bool{"Email": true, "Password": true})

	// Editing an instance with a stored token: no alternative is missing.
	st := newStore(t)
	seed(t, st)
	h = newHarness(t, st, 100, 40)
	h.key("e")
	check("stored token", map[string]bool{"API token": true})
	// Close has one way only: its API key is always required.
	h = newHarness(t, nil, 100, 40)
	h.key("n")
	if got := starred(t, h.view(), "API key"); !got["API key"] {
		t.Errorf("Close API key not starred:\n%s", h.view())
	}
}

// Choice values (Element, Vendor type) start in the column of every other
// value, focused or not.
func TestFormChoiceValuesAligned(t *testing.T) {
	st := newStore(t)
	seed(t, st)
	h := newHarness(t, st, 100, 40)
	h.key("e")
	col := func(label string) int {
		t.Helper()
		for _, l := range splitLines(h.view()) {
			if i := strings.Index(l, label+" "); i >= 0 {
				n := len([]rune(l[:i+len(label)]))
				for _, r := range l[i+len(label):] {
					if r != ' ' {
						return n
					}
					n++
				}
			}
		}
		t.Fatalf("no %s line:\n%s", label, h.view())
		return 0
	}
	want := col("Callback URL")
	if got := col("Vendor type"); got != want {
		t.Errorf("Vendor type value at column %d, other values at %d:\n%s", got, want, h.view())
	}
	f := h.top().(*formScreen)
	for f.fields[f.focus].key != model.KeyVendorType {
		h.key("tab")
	}
	if got := col("Vendor type"); got != want {
		t.Errorf("focused: Vendor type value at column %d, other values at %d:\n%s", got, want, h.view())
	}
}

// Instance names with brackets of their own do not meet a bracketed
// element: "name · element" in the form's title and the event's detail.
func TestInstanceLabelsWithBrackets(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	if _, err := st.UpdateInstance(t.Context(), pd.ID, func(in model.Instance) (model.Instance, error) {
		in.Name = "Demo Pipedrive (polling)"
		return in, nil
	}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 100, 30)
	h.key("e")
	h.contains("Edit #1  Demo Pipedrive (polling) · pipedrive")
	h = newHarness(t, st, 100, 30)
	h.key(":")
	h.typeText("events")
	h.key("enter", "down", "enter")
	h.contains("instance     #1 Demo Pipedrive (polling) · pipedrive · hub crm")
	if strings.Contains(h.view(), ") (") {
		t.Errorf("doubled brackets:\n%s", h.view())
	}
}

// The callback and webhook-verification keys have fields: a bad headers
// object is shown at its field and nothing is stored; fixed, every key is
// saved, and the secrets are masked when the form opens again.
func TestFormCallbackAndWebhookFields(t *testing.T) {
	h := newHarness(t, nil, 100, 40)
	h.key("n") // closeio
	f := h.top().(*formScreen)
	if f.field(model.KeyWebhookUsername).key != "" {
		t.Error("a Close form offers Pipedrive's webhook Basic auth")
	}
	f.field(model.KeyCloseAPIKey).setValue("api_key_1")
	f.field(model.KeyStandardSecret).setValue("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	f.field(model.KeyCallbackHeaders).setValue(`{"X-Team": 1`)
	f.field(model.KeyWebhookSignatureKey).setValue("c0ffee")
	h.key("ctrl+s")
	if f.problems == nil || len(f.problems.For("configuration."+model.KeyCallbackHeaders)) == 0 {
		t.Fatalf("bad headers not reported at their field: %+v", f.problems)
	}
	if got := f.fields[f.focus].key; got != model.KeyCallbackHeaders {
		t.Errorf("focus went to %s, want the headers field", got)
	}
	if all, _ := h.st.Instances(t.Context()); len(all) != 0 {
		t.Fatal("an instance with bad headers was stored")
	}
	f.field(model.KeyCallbackHeaders).setValue(`{"X-Team":"sales"}`)
	h.key("ctrl+s")
	all, _ := h.st.Instances(t.Context())
	if len(all) != 1 {
		t.Fatalf("%d instances stored, want 1 (problems %+v)", len(all), f.problems)
	}
	c := all[0].Configuration
	if c[model.KeyStandardSecret] != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || c[model.KeyCallbackHeaders] != `{"X-Team":"sales"}` || c[model.KeyWebhookSignatureKey] != "c0ffee" {
		t.Errorf("stored %q", c)
	}
	e := newFormScreen(h.app.ctx, &all[0])
	for _, k := range []string{model.KeyStandardSecret, model.KeyWebhookSignatureKey} {
		if !e.field(k).masked {
			t.Errorf("%s not masked when editing", k)
		}
	}
}

// Callback headers imported as a JSON object land in their field (compact)
// and are saved, also over headers the instance had.
func TestFormImportHeadersObject(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	if _, err := st.UpdateInstance(t.Context(), pd.ID, func(cur model.Instance) (model.Instance, error) {
		cur.Configuration[model.KeyCallbackHeaders] = `{"X-Team":"old"}`
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "instance.json")
	if err := os.WriteFile(path, []byte(`{"element":{"key":"pipedrive"},"configuration":{"event.notification.callback.headers":{ "X-Team": "new" }}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 100, 40)
	h.key("e", "ctrl+o")
	f := h.top().(*formScreen)
	f.path.SetValue(path)
	h.key("enter")
	if got := f.field(model.KeyCallbackHeaders).value(); got != `{"X-Team":"new"}` {
		t.Errorf("headers field after import = %q, want the compact object", got)
	}
	if !strings.Contains(h.app.toast.text, "1 field(s) filled") {
		t.Errorf("toast %q", h.app.toast.text)
	}
	h.key("ctrl+s")
	got, _ := st.Instance(t.Context(), pd.ID)
	if v := got.Configuration[model.KeyCallbackHeaders]; v != `{"X-Team":"new"}` {
		t.Errorf("stored headers %q, want the imported ones", v)
	}
}

// Callback header values are credentials: the instance detail and the edit
// form show the names with masked values (x reveals them on the detail),
// and saving the form with the masked values keeps the stored ones.
func TestCallbackHeadersMaskedOnScreen(t *testing.T) {
	st := newStore(t)
	pd, _ := seed(t, st)
	if _, err := st.UpdateInstance(t.Context(), pd.ID, func(cur model.Instance) (model.Instance, error) {
		cur.Configuration[model.KeyCallbackHeaders] = `{"Authorization":"Bearer hdr-Secret-77","X-Team":"sales"}`
		return cur, nil
	}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 120, 60)
	h.key("enter")
	h.contains(`"Authorization":"********"`)
	if strings.Contains(h.view(), "hdr-Secret-77") {
		t.Fatalf("detail shows a callback header value before reveal:\n%s", h.view())
	}
	h.key("x")
	h.contains("hdr-Secret-77")
	h.key("x", "e")
	f := h.top().(*formScreen)
	if v := f.field(model.KeyCallbackHeaders).value(); strings.Contains(v, "hdr-Secret-77") || !strings.Contains(v, `"Authorization":"********"`) {
		t.Fatalf("edit form headers field %q", v)
	}
	f.field(fieldName).setValue("Renamed")
	h.key("ctrl+s")
	got, _ := st.Instance(t.Context(), pd.ID)
	if got.Name != "Renamed" || got.Configuration[model.KeyCallbackHeaders] != `{"Authorization":"Bearer hdr-Secret-77","X-Team":"sales"}` {
		t.Fatalf("saved %q headers %q", got.Name, got.Configuration[model.KeyCallbackHeaders])
	}
}
