package poll

import (
	"testing"

	"github.com/eventdesk/eventdesk/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
