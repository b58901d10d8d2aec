package store

import (
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

func TestCreateInstanceIDsAndTokens(t *testing.T) {
	s := openTest(t, nil)
	tokens := map[string]bool{}
	for i, name := range []string{"a", "b", "c"} {
		src := closeioInstance(t, name)
		src.ID, src.Token = 99, "caller-chosen"
		in, err := s.CreateInstance(t.Context(), src)
		if err != nil {
			t.Fatalf("CreateInstance %s: %v", name, err)
		}
		if in.ID != int64(i+1) {
			t.Errorf("instance %s got id %d, want %d", name, in.ID, i+1)
		}
		raw, err := base64.StdEncoding.DecodeString(in.Token)
		if err != nil || len(raw) != 32 {
			t.Errorf("token %q: %d bytes, %v; want 32 random bytes in base64", in.Token, len(raw), err)
		}
		if tokens[in.Token] {
			t.Errorf("token %q issued twice", in.Token)
		}
		tokens[in.Token] = true
		got, err := s.Instance(t.Context(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(in)) {
			t.Errorf("Instance(%d) = %+v, want %+v", in.ID, got, in)
		}
	}
	list, err := s.Instances(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != "a" || list[1].Name != "b" || list[2].Name != "c" {
		t.Errorf("Instances() = %+v, want a, b, c in id order", list)
	}
	// Ids are never reused after a delete.
	if err := s.DeleteInstance(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	in, err := s.CreateInstance(t.Context(), closeioInstance(t, "d"))
	if err != nil || in.ID != 4 {
		t.Errorf("after delete: id %d, %v; want 4", in.ID, err)
	}
}

// normalize drops monotonic clock readings so DeepEqual compares values.
func normalize(in model.Instance) model.Instance {
	in.CreatedAt = in.CreatedAt.Round(0).UTC()
	in.UpdatedAt = in.UpdatedAt.Round(0).UTC()
	in.EventsEnabledAt = in.EventsEnabledAt.Round(0).UTC()
	return in
}

func TestCreateInstanceRejectsInvalid(t *testing.T) {
	s := openTest(t, nil)
	bad := closeioInstance(t, "x")
	delete(bad.Configuration, model.KeyCloseAPIKey)
	if _, err := s.CreateInstance(t.Context(), bad); err == nil {
		t.Fatal("CreateInstance of an instance missing its API key succeeded")
	}
	if list, _ := s.Instances(t.Context()); len(list) != 0 {
		t.Errorf("invalid instance stored: %+v", list)
	}
	// The failed create does not consume an id.
	in, err := s.CreateInstance(t.Context(), closeioInstance(t, "ok"))
	if err != nil || in.ID != 1 {
		t.Errorf("id %d, %v; want 1", in.ID, err)
	}
}

func TestCreateInstanceDoesNotAliasCaller(t *testing.T) {
	s := openTest(t, nil)
	src := closeioInstance(t, "a")
	in, err := s.CreateInstance(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	in.Configuration["username"] = "changed"
	src.Configuration["username"] = "changed too"
	got, _ := s.Instance(t.Context(), in.ID)
	if got.Configuration["username"] != "api_key_a" {
		t.Errorf("stored configuration changed through an alias: %q", got.Configuration["username"])
	}
}

func TestInstanceNotFound(t *testing.T) {
	s := openTest(t, nil)
	for _, id := range []int64{0, -1, 1, 42} {
		if _, err := s.Instance(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Instance(%d): %v, want ErrNotFound", id, err)
		}
		if err := s.DeleteInstance(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteInstance(%d): %v, want ErrNotFound", id, err)
		}
		_, err := s.UpdateInstance(t.Context(), id, func(in model.Instance) (model.Instance, error) {
			t.Errorf("UpdateInstance(%d) called fn for a missing instance", id)
			return in, nil
		})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateInstance(%d): %v, want ErrNotFound", id, err)
		}
	}
	if list, err := s.Instances(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("Instances() on empty store = %v, %v", list, err)
	}
}

func TestUpdateInstance(t *testing.T) {
	s := openTest(t, nil)
	orig, err := s.CreateInstance(t.Context(), closeioInstance(t, "a"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateInstance(t.Context(), closeioInstance(t, "b"))
	if err != nil {
		t.Fatal(err)
	}
	later := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)

	t.Run("applies fn", func(t *testing.T) {
		out, err := s.UpdateInstance(t.Context(), orig.ID, func(in model.Instance) (model.Instance, error) {
			in.Name = "renamed"
			in.Tags = []string{"t1"}
			in.UpdatedAt = later
			return in, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.Instance(t.Context(), orig.ID)
		if got.Name != "renamed" || !reflect.DeepEqual(got.Tags, []string{"t1"}) || !got.UpdatedAt.Equal(later) {
			t.Errorf("stored %+v", got)
		}
		if !reflect.DeepEqual(normalize(out), normalize(got)) {
			t.Errorf("returned %+v, stored %+v", out, got)
		}
		if o, _ := s.Instance(t.Context(), other.ID); o.Name != "b" {
			t.Errorf("another instance changed: %+v", o)
		}
	})

	t.Run("fn error leaves it unchanged", func(t *testing.T) {
		before, _ := s.Instance(t.Context(), orig.ID)
		boom := errors.New("boom")
		_, err := s.UpdateInstance(t.Context(), orig.ID, func(in model.Instance) (model.Instance, error) {
			in.Name = "should not stick"
			in.Configuration["username"] = "nope"
			return in, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("error %v, want fn's error", err)
		}
		after, _ := s.Instance(t.Context(), orig.ID)
		if !reflect.DeepEqual(normalize(before), normalize(after)) {
			t.Errorf("changed after failing fn: %+v -> %+v", before, after)
		}
	})

	t.Run("validation failure leaves it unchanged", func(t *testing.T) {
		before, _ := s.Instance(t.Context(), orig.ID)
		_, err := s.UpdateInstance(t.Context(), orig.ID, func(in model.Instance) (model.Instance, error) {
			in.Name = "should not stick"
			delete(in.Configuration, model.KeyCloseAPIKey)
			return in, nil
		})
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("error %v, want a *model.ValidationError", err)
		}
		after, _ := s.Instance(t.Context(), orig.ID)
		if !reflect.DeepEqual(normalize(before), normalize(after)) {
			t.Errorf("changed after failed validation: %+v -> %+v", before, after)
		}
	})

	t.Run("immutable fields", func(t *testing.T) {
		before, _ := s.Instance(t.Context(), orig.ID)
		out, err := s.UpdateInstance(t.Context(), orig.ID, func(in model.Instance) (model.Instance, error) {
			in.ID = other.ID
			in.Token = "stolen"
			in.CreatedAt = later
			in.Name = "kept"
			return in, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.Instance(t.Context(), orig.ID)
		for _, got := range []model.Instance{out, after} {
			if got.ID != before.ID || got.Token != before.Token || !got.CreatedAt.Equal(before.CreatedAt) || got.ElementKey != before.ElementKey {
				t.Errorf("immutable fields changed: %+v, was %+v", got, before)
			}
			if got.Name != "kept" {
				t.Errorf("mutable change lost: %+v", got)
			}
		}
		if o, _ := s.Instance(t.Context(), other.ID); o.Name != "b" || o.Token != other.Token {
			t.Errorf("update with a changed ID wrote to the other instance: %+v", o)
		}
	})

	t.Run("element cannot be changed", func(t *testing.T) {
		// fn swaps the element and the configuration to one valid for the
		// other element. The element is restored, so the result must be
		// validated as a closeio instance: without a Close API key it is
		// invalid and must be refused rather than stored.
		before, _ := s.Instance(t.Context(), orig.ID)
		_, err := s.UpdateInstance(t.Context(), orig.ID, func(in model.Instance) (model.Instance, error) {
			in.ElementKey = "pipedrive"
			delete(in.Configuration, model.KeyCloseAPIKey)
			in.Configuration[model.KeyPipedriveToken] = "tok"
			in.Configuration[model.KeyBaseURL] = "https://api.pipedrive.com/v1"
			return in, nil
		})
		after, _ := s.Instance(t.Context(), orig.ID)
		if after.ElementKey != "closeio" {
			t.Fatalf("element changed to %q", after.ElementKey)
		}
		if verr := after.Validate(); verr != nil {
			t.Errorf("UpdateInstance stored an instance that fails validation (err=%v): %v", err, verr)
		}
		if err == nil {
			t.Errorf("update that leaves a closeio instance without its API key succeeded")
		} else if !reflect.DeepEqual(normalize(before), normalize(after)) {
			t.Errorf("refused update still changed the instance: %+v -> %+v", before, after)
		}
	})
}

func TestDeleteInstance(t *testing.T) {
	s := openTest(t, nil)
	a, _ := s.CreateInstance(t.Context(), closeioInstance(t, "a"))
	b, _ := s.CreateInstance(t.Context(), pipedriveInstance(t, "b"))
	res := mustAppend(t, s, webhookEvent(a.ID, "v", "c"))
	if err := s.DeleteInstance(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Instance(t.Context(), a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Instance after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteInstance(t.Context(), a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	list, _ := s.Instances(t.Context())
	if len(list) != 1 || list[0].ID != b.ID {
		t.Errorf("Instances after delete = %+v", list)
	}
	// History stays readable.
	if _, err := s.Event(t.Context(), res.Stored[0].ID); err != nil {
		t.Errorf("event of a deleted instance: %v", err)
	}
}

// A login's token is stored once; a token already there (stored meanwhile
// by another login or an edit) wins and is what the caller gets back.
func TestKeepPipedriveToken(t *testing.T) {
	s := openTest(t, nil)
	src := pipedriveInstance(t, "login")
	delete(src.Configuration, model.KeyPipedriveToken)
	src.Configuration[model.KeyPipedriveEmail], src.Configuration[model.KeyPipedrivePassword] = "a@example.com", "pw"
	in, err := s.CreateInstance(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ give, want string }{{"first", "first"}, {"second", "first"}} {
		got, err := s.KeepPipedriveToken(t.Context(), in.ID, c.give)
		if err != nil || got != c.want {
			t.Fatalf("KeepPipedriveToken(%q) = %q, %v; want %q", c.give, got, err, c.want)
		}
		if stored, _ := s.Instance(t.Context(), in.ID); stored.Configuration[model.KeyPipedriveToken] != c.want {
			t.Fatalf("stored token %q, want %q", stored.Configuration[model.KeyPipedriveToken], c.want)
		}
	}
}
