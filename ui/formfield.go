package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/eventdesk/eventdesk/model"
)

type fieldKind int

// Field kinds of the instance form.
const (
	fieldText fieldKind = iota
	fieldSecret
	fieldToggle
	fieldChoice
)

// Pseudo-keys of form fields that are not configuration keys.
const (
	fieldElement = "element"
	fieldName    = "name"
	fieldTags    = "tags"
)

// formField is one row of the instance form.
type formField struct {
	key   string
	label string
	kind  fieldKind
	// required is a field needed in any case; keys of the element's
	// alternatives (RequiredAny) are starred by formScreen.requiredAlts.
	required bool
	help     string
	// section starts a heading before this field.
	section string
	input   lineInput
	on      bool
	choices []string
	choice  int
	// masked is an untouched stored secret in edit mode: the stored value
	// stays in the store (never in the form), the first key typed replaces
	// it, and leaving it alone keeps it.
	masked bool
}

// problemPath is the field's name in model.ValidationError.
func (f *formField) problemPath() string {
	switch f.key {
	case fieldElement:
		return "element.key"
	case fieldName, fieldTags:
		return f.key
	}
	return "configuration." + f.key
}

func (f *formField) value() string {
	switch f.kind {
	case fieldToggle:
		if f.on {
			return "true"
		}
		return "false"
	case fieldChoice:
		if len(f.choices) == 0 {
			return ""
		}
		return f.choices[f.choice]
	}
	if f.masked {
		return model.Mask
	}
	return strings.TrimSpace(f.input.Value())
}

// setValue fills the field from a configuration string.
func (f *formField) setValue(v string) {
	switch f.kind {
	case fieldToggle:
		f.on = strings.EqualFold(strings.TrimSpace(v), "true")
	case fieldChoice:
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "webhooks" {
			v = "webhook"
		}
		for i, c := range f.choices {
			if c == v {
				f.choice = i
			}
		}
	default:
		f.masked = false
		f.input.SetValue(v)
	}
}

// update applies a key to the field and reports whether it used it.
func (f *formField) update(msg tea.KeyMsg) bool {
	switch f.kind {
	case fieldToggle:
		switch msg.String() {
		case " ", "left", "right", "x", "h", "l":
			f.on = !f.on
			return true
		}
		return false
	case fieldChoice:
		switch msg.String() {
		case "right", " ", "l":
			f.choice = (f.choice + 1) % len(f.choices)
			return true
		case "left", "h":
			f.choice = (f.choice + len(f.choices) - 1) % len(f.choices)
			return true
		}
		return false
	}
	if f.masked {
		switch msg.Type {
		case tea.KeyRunes, tea.KeySpace, tea.KeyBackspace, tea.KeyDelete, tea.KeyCtrlU:
			f.masked = false
			f.input.SetValue("")
			if msg.Type != tea.KeyRunes && msg.Type != tea.KeySpace {
				return true
			}
		default:
			return false
		}
	}
	_, handled := f.input.Update(msg)
	return handled
}

// view draws the field's input part.
func (f *formField) view(st Styles, focused, reveal bool) string {
	switch f.kind {
	case fieldToggle:
		box := "[ ] off"
		if f.on {
			box = "[x] on"
		}
		if focused {
			return st.Focused.Render(box) + st.Muted.Render("  space toggles")
		}
		return st.Value.Render(box)
	case fieldChoice:
		c := f.choices[f.choice]
		if focused {
			// The value stays in the column of every other value.
			return st.Focused.Render(c) + st.Muted.Render("  ←/→ choose")
		}
		return st.Value.Render(c)
	}
	if f.masked {
		s := st.Secret.Render(model.Mask + " (stored, unchanged)")
		if focused {
			s = cursorView(st, " ") + s + st.Muted.Render("  type to replace")
		}
		return s
	}
	f.input.focused = focused
	f.input.reveal = reveal
	return f.input.View(st)
}

// elementFields builds the form's rows for an element; create adds the
// element picker at the top.
func elementFields(el model.Element, create bool) []formField {
	var fs []formField
	if create {
		keys := model.ElementKeys()
		f := formField{key: fieldElement, label: "Element", kind: fieldChoice, required: true, choices: keys,
			help: "the vendor this instance connects to"}
		for i, k := range keys {
			if k == el.Key {
				f.choice = i
			}
		}
		fs = append(fs, f)
	}
	fs = append(fs, textField(fieldName, "Name", "a name for people; the API shows it", false),
		textField(fieldTags, "Tags", "comma-separated", false))
	for i, ef := range el.Fields {
		f := textField(ef.Key, ef.Label, ef.Help, ef.Required)
		if ef.Secret || model.IsSecretKey(el.Key, ef.Key) {
			f.kind = fieldSecret
			f.input.secret = true
		}
		if ef.Key == model.KeyBaseURL {
			f.input.placeholder = el.Defaults[model.KeyBaseURL] + " (default)"
		}
		if i == 0 {
			f.section = "Connection to " + el.Name
			if len(el.RequiredAny) > 1 {
				f.section += " — needs " + requirementText(el)
			}
		}
		fs = append(fs, f)
	}
	ev := formField{key: model.KeyEventsEnabled, label: "Events enabled", kind: fieldToggle, section: "Events",
		help: "master switch: poll, and send notifications (webhooks are stored either way)"}
	vt := formField{key: model.KeyVendorType, label: "Vendor type", kind: fieldChoice, choices: []string{"polling", "webhook"},
		help: "polling asks the vendor every refresh interval; webhook waits for the vendor to post"}
	vt.choice = 1
	fs = append(fs, ev, vt,
		textField(model.KeyCallbackURL, "Callback URL", "where notifications are POSTed; empty sends none", false),
		secretField(model.KeySignatureKey, "Signature key", "HMAC key of the Elements-Webhook-Signature header"),
		secretField(model.KeyStandardSecret, "Standard secret", "whsec_… key: also sign callbacks the Standard Webhooks way"),
		textField(model.KeyBasicUsername, "Basic user", "HTTP Basic user sent with callbacks", false),
		secretField(model.KeyBasicPassword, "Basic password", "HTTP Basic password sent with callbacks"),
		textField(model.KeyCallbackHeaders, "Callback headers", `JSON object of extra headers, e.g. {"X-Team":"sales"}`, false),
		textField(model.KeyRefreshInterval, "Refresh (min)", "minutes between polls, a whole number ≥ 1 (default 15)", false),
	)
	fs[len(fs)-1].input.placeholder = "15"
	// What the listener demands of the vendor's posts: what each vendor's
	// webhook setup can send (automatic registration fills these in).
	var hooks []formField
	switch el.Key {
	case "pipedrive":
		hooks = append(hooks,
			textField(model.KeyWebhookUsername, "Webhook user", "HTTP Basic user Pipedrive must send (the webhook form's user)", false),
			secretField(model.KeyWebhookPassword, "Webhook password", "HTTP Basic password Pipedrive must send"))
	case "closeio":
		hooks = append(hooks,
			secretField(model.KeyWebhookSignatureKey, "Signature key", "hex signature_key of the Close subscription; demands close-sig-hash"))
	}
	if len(hooks) > 0 {
		hooks[0].section = "Webhooks from " + el.Name
	}
	return append(fs, hooks...)
}

func textField(k, label, help string, required bool) formField {
	return formField{key: k, label: label, kind: fieldText, required: required, help: help, input: newLineInput("")}
}

func secretField(k, label, help string) formField {
	f := textField(k, label, help, false)
	f.kind = fieldSecret
	f.input.secret = true
	return f
}

// requirementText reads an element's alternatives for people:
// "pipedrive.api.token, or both pipedrive.email and pipedrive.password".
func requirementText(el model.Element) string {
	var parts []string
	for _, set := range el.RequiredAny {
		labels := make([]string, len(set))
		for i, k := range set {
			labels[i] = k
			if f, ok := el.Field(k); ok && f.Label != "" {
				labels[i] = f.Label
			}
		}
		if len(labels) == 1 {
			parts = append(parts, labels[0])
		} else {
			parts = append(parts, strings.Join(labels, " + "))
		}
	}
	return strings.Join(parts, ", or ")
}
