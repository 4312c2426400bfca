package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"

	"github.com/ripple-ops/ripple/engine"
)

// MirrorOptions says where the ops repo lives and how to reach it.
type MirrorOptions struct {
	// URL is a local path, a file:// URL, https://..., ssh://... or the
	// scp-style user@host:path.
	URL    string
	Branch string
	// Dir is where the bare mirror clone lives (<data>/mirror).
	Dir string
	// TokenFile holds a token for https remotes (sent as basic auth with
	// the user "x-access-token", which GitHub and most forges accept).
	TokenFile string
	// SSHKeyFile and KnownHostsFile are required for ssh remotes: the host
	// key is always verified against KnownHostsFile.
	SSHKeyFile     string
	KnownHostsFile string
}

// Mirror is a bare, single-branch, tag-less clone of the ops repo. Files are
// read from commit trees (Repo.FS), lazily from the object store, never
// from a checkout.
//
// go-git is not safe for concurrent use, and a fetch racing a read of the
// same repository corrupts neither only by luck; so a fetch holds the
// Repo's one lock, like every read, and all git access is serialized.
type Mirror struct {
	*Repo
	opts MirrorOptions
	auth transport.AuthMethod
}

// OpenMirror opens the mirror under opts.Dir, cloning it first when the
// directory holds no repository. A mirror of another URL is refused rather
// than silently replaced.
func OpenMirror(ctx context.Context, opts MirrorOptions) (*Mirror, error) {
	if opts.URL == "" {
		return nil, errors.New("repository URL is empty")
	}
	if opts.Branch == "" {
		opts.Branch = "main"
	}
	url, err := normalizeRepoURL(opts.URL)
	if err != nil {
		return nil, err
	}
	opts.URL = url
	auth, err := repoAuth(opts)
	if err != nil {
		return nil, err
	}
	repo, err := git.PlainOpen(opts.Dir)
	switch {
	case err == nil:
		remote, rerr := repo.Remote("origin")
		if rerr != nil {
			return nil, fmt.Errorf("mirror %s: %w", opts.Dir, rerr)
		}
		if urls := remote.Config().URLs; len(urls) == 0 || urls[0] != opts.URL {
			return nil, fmt.Errorf("mirror %s is a clone of %v, not %s; remove it to clone afresh", opts.Dir, urls, RedactURL(opts.URL))
		}
	case errors.Is(err, git.ErrRepositoryNotExists):
		if err := os.MkdirAll(filepath.Dir(opts.Dir), 0o750); err != nil {
			return nil, fmt.Errorf("create mirror directory: %w", err)
		}
		if src := localRepoPath(opts.URL); src != "" {
			if repo, err = cloneLocal(ctx, opts, src); err != nil {
				_ = os.RemoveAll(opts.Dir)
				return nil, fmt.Errorf("clone %s: %w", opts.URL, err)
			}
			break
		}
		repo, err = git.PlainCloneContext(ctx, opts.Dir, true, &git.CloneOptions{
			URL:           opts.URL,
			Auth:          auth,
			RemoteName:    "origin",
			ReferenceName: plumbing.NewBranchReferenceName(opts.Branch),
			SingleBranch:  true,
			Tags:          git.NoTags,
		})
		if err != nil {
			_ = os.RemoveAll(opts.Dir)
			return nil, fmt.Errorf("clone %s: %w", RedactURL(opts.URL), err)
		}
	default:
		return nil, fmt.Errorf("open mirror %s: %w", opts.Dir, err)
	}
	return &Mirror{Repo: &Repo{repo: repo}, opts: opts, auth: auth}, nil
}

// Fetch updates the tracked branch from the remote and returns its head.
func (m *Mirror) Fetch(ctx context.Context) (plumbing.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ref := plumbing.NewBranchReferenceName(m.opts.Branch)
	return m.fetchRef(ctx, ref)
}

// FetchPullRequest fetches GitHub's refs/pull/<n>/head into the mirror and
// returns the commit it names.
func (m *Mirror) FetchPullRequest(ctx context.Context, number int) (plumbing.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if number <= 0 {
		return plumbing.ZeroHash, fmt.Errorf("pull request number %d out of range", number)
	}
	return m.fetchRef(ctx, plumbing.ReferenceName("refs/pull/"+strconv.Itoa(number)+"/head"))
}

func (m *Mirror) fetchRef(ctx context.Context, ref plumbing.ReferenceName) (plumbing.Hash, error) {
	if src := localRepoPath(m.opts.URL); src != "" {
		return fetchLocal(ctx, m.repo, src, ref)
	}
	spec := config.RefSpec("+" + ref.String() + ":" + ref.String())
	err := m.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin",
		RefSpecs:   []config.RefSpec{spec},
		Auth:       m.auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s: %w", ref, err)
	}
	r, err := m.repo.Reference(ref, true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return r.Hash(), nil
}

// repoAuth builds the transport credentials for the remote.
func repoAuth(opts MirrorOptions) (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("parse repository URL: %w", err)
	}
	switch ep.Protocol {
	case "https", "http":
		if opts.TokenFile == "" {
			return nil, nil
		}
		tok, err := engine.ReadSecretFile(opts.TokenFile)
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: "x-access-token", Password: tok}, nil
	case "ssh":
		if opts.SSHKeyFile == "" || opts.KnownHostsFile == "" {
			return nil, errors.New("an ssh repository needs a key file and a known_hosts file")
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		auth, err := gitssh.NewPublicKeysFromFile(user, opts.SSHKeyFile, "")
		if err != nil {
			return nil, fmt.Errorf("read ssh key %s: %w", opts.SSHKeyFile, err)
		}
		db, err := knownhosts.NewDB(opts.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("read known_hosts %s: %w", opts.KnownHostsFile, err)
		}
		port := ep.Port
		if port == 0 {
			port = 22
		}
		auth.HostKeyCallback = db.HostKeyCallback()
		// Without the algorithms of the known key, the server may offer
		// another key type and verification fails (go-git #1551).
		auth.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port)))
		return auth, nil
	default:
		return nil, nil
	}
}

var scpLike = regexp.MustCompile(`^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^/]`)

// normalizeRepoURL makes local paths absolute so that the mirror's remote
// does not depend on the daemon's working directory.
func normalizeRepoURL(u string) (string, error) {
	if strings.Contains(u, "://") || (scpLike.MatchString(u) && !strings.HasPrefix(u, "/")) {
		return u, nil
	}
	abs, err := filepath.Abs(u)
	if err != nil {
		return "", fmt.Errorf("repository path: %w", err)
	}
	return abs, nil
}

// RedactURL drops any password from a URL before it is logged.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	return p.Redacted()
}
