package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

const webhookUsage = `Register or unregister the instance's webhook with the vendor's API.

  register ID     Pipedrive: POST /v1/webhooks with generated Basic credentials,
                  stored as event.webhook.username/password.
                  Close: POST /webhook/, storing the returned signature_key as
                  event.webhook.signature.key.
  unregister ID   delete the vendor subscription and forget its credentials.

The webhook URL uses the stored public URL (serve --public-url); a loopback
address is refused because the vendor could not reach it.`

func runWebhook(args []string, env Env) error {
	fs := flags("webhook", "register|unregister ID [flags]", webhookUsage, env)
	ef := addEngineFlags(fs, env)
	timeout := fs.Duration("timeout", 30*time.Second, "give up on the vendor after this long")
	pos, err := parse(fs, args, env)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[0] != "register" && pos[0] != "unregister") {
		fs.Usage()
		return errUsage
	}
	id, err := instanceID("webhook", pos[1])
	if err != nil {
		return err
	}
	b, err := ef.open(env, readWrite)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()
	var in model.Instance
	if pos[0] == "register" {
		in, err = b.RegisterWebhook(ctx, id)
	} else {
		in, err = b.UnregisterWebhook(ctx, id)
	}
	if err != nil {
		return err
	}
	if pos[0] == "register" {
		info, err := b.Info(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "registered %s webhook %s for instance %d → %s\n", in.ElementKey, in.Configuration[model.KeyWebhookID], id, model.WebhookURL(info.PublicURL, in.ElementKey, id))
	} else {
		fmt.Fprintf(env.Stdout, "unregistered the %s webhook of instance %d\n", in.ElementKey, id)
	}
	return nil
}
