package definitions

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// dataFile marks a string that repofile() read: the repo path it came
// from. csvdecode, jsondecode and yamldecode pass it on to what they
// decode, so a diagnostic about a generated host can name the file.
type dataFile struct{ path string }

// dataRow marks a value decoded from one row of a CSV file read with
// repofile(): the file and the row's line, for diagnostics that say
// "inventory/switches.csv:14: ...".
type dataRow struct {
	file string
	line int
}

// dataError is a data file that cannot be decoded, at a line when known.
type dataError struct {
	file string // "" when the text did not come from repofile()
	line int    // 0 when unknown
	msg  string
}

func (e *dataError) Error() string {
	switch {
	case e.file != "" && e.line > 0:
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	case e.file != "":
		return e.file + ": " + e.msg
	case e.line > 0:
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return e.msg
}

// repoFiles reads the data files of one commit for repofile(), each once,
// and remembers what was read so diagnostics can show its lines and the
// diff can tell a changed data file. Safe for concurrent use.
type repoFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	read map[string]repoRead
}

type repoRead struct {
	data []byte
	err  error
}

func newRepoFiles(fsys fs.FS) *repoFiles {
	return &repoFiles{fsys: fsys, read: map[string]repoRead{}}
}

// files returns the data files read so far, by path, with their bytes.
func (rf *repoFiles) files() map[string][]byte {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	out := map[string][]byte{}
	for p, r := range rf.read {
		if r.err == nil {
			out[p] = r.data
		}
	}
	return out
}

// load reads name (a clean repo path), confined to the repo.
func (rf *repoFiles) load(name string) ([]byte, error) {
	rf.mu.Lock()
	r, ok := rf.read[name]
	rf.mu.Unlock()
	if ok {
		return r.data, r.err
	}
	if rf.fsys == nil {
		return nil, errors.New("no repository to read from")
	}
	_, data, err := readRepoFile(rf.fsys, name)
	switch {
	case errors.Is(err, errEscapes):
		err = fmt.Errorf("%s is a symbolic link that leaves the repository", name)
	case errors.Is(err, fs.ErrNotExist):
		err = fmt.Errorf("there is no file %s in the repository", name)
	case errors.Is(err, errTooLarge):
		err = fmt.Errorf("%s is larger than %d bytes", name, MaxFileSize)
	}
	rf.mu.Lock()
	rf.read[name] = repoRead{data: data, err: err}
	rf.mu.Unlock()
	return data, err
}

// repoFileFunc is repofile(path) for expressions written in a file of
// directory dir: it reads path, relative to dir, from the commit, and
// refuses any path that leaves the repository. The result is marked with
// the file it came from (dataFile).
func (rf *repoFiles) repoFileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a file of the ops repo at the commit, relative to the file that calls it.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			name, err := repoPath(dir, p)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			data, err := rf.load(name)
			if err != nil {
				return cty.NilVal, function.NewArgError(0, err)
			}
			return cty.StringVal(string(data)).Mark(dataFile{path: name}), nil
		},
	})
}

// repoPath resolves p, written in a file of directory dir, to a clean
// repo path, refusing absolute paths and paths that climb out.
func repoPath(dir, p string) (string, error) {
	if p == "" {
		return "", errors.New("the path is empty")
	}
	if path.IsAbs(p) || strings.Contains(p, `\`) {
		return "", fmt.Errorf("%q must be a path relative to the file that names it, inside the repository: repofile() reads the commit, never the daemon's disk (that is file())", p)
	}
	name := path.Join(dir, p)
	if leavesRoot(name) || !fs.ValidPath(name) {
		return "", fmt.Errorf("%q resolves to %s, which is outside the repository", p, name)
	}
	return name, nil
}

// scopes hands out evaluation contexts in which repofile() reads relative
// to the directory of the expression being evaluated: a child of a base
// context per (base, directory), made once. Not safe for concurrent use;
// each goroutine keeps its own.
type scopes struct {
	files *repoFiles // nil: repofile() is an error
	byDir map[scopeKey]*hcl.EvalContext
}

type scopeKey struct {
	base *hcl.EvalContext
	dir  string
}

// in returns the context to evaluate expr in: base, with repofile() bound
// to expr's directory.
func (s *scopes) in(base *hcl.EvalContext, expr hcl.Expression) *hcl.EvalContext {
	if s == nil || s.files == nil || expr == nil || base == nil {
		return base
	}
	dir := path.Dir(expr.Range().Filename)
	k := scopeKey{base, dir}
	if ctx, ok := s.byDir[k]; ok {
		return ctx
	}
	if s.byDir == nil {
		s.byDir = map[scopeKey]*hcl.EvalContext{}
	}
	ctx := base.NewChild()
	ctx.Functions = map[string]function.Function{"repofile": s.files.repoFileFunc(dir)}
	s.byDir[k] = ctx
	return ctx
}

// noRepoFileFunc stands for repofile() where no commit is at hand.
var noRepoFileFunc = function.New(&function.Spec{
	Description: "Reads a file of the ops repo.",
	Params:      []function.Parameter{{Name: "path", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
		return cty.NilVal, errors.New("repofile() has no repository to read here")
	},
})

// fileOf returns the repo path a value was read from, if it carries a
// dataFile mark.
func fileOf(marks cty.ValueMarks) string {
	for m := range marks {
		if f, ok := m.(dataFile); ok {
			return f.path
		}
	}
	return ""
}

// csvDecodeFunc is go-cty's csvdecode (RFC 4180, the first row names the
// columns, every value a string) read with encoding/csv so that each row
// remembers its line: a row of a repofile() is marked with dataRow.
var csvDecodeFunc = function.New(&function.Spec{
	Description: "Decodes CSV text into a list of objects, one per row, named by the header row.",
	Params:      []function.Parameter{{Name: "str", Type: cty.String, AllowMarked: true}},
	Type: func(args []cty.Value) (cty.Type, error) {
		str, marks := args[0].Unmark()
		if !str.IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		file := fileOf(marks)
		cr := csv.NewReader(strings.NewReader(str.AsString()))
		headers, err := cr.Read()
		if err == io.EOF {
			return cty.DynamicPseudoType, &dataError{file: file, line: 1, msg: "missing header line"}
		}
		if err != nil {
			return cty.DynamicPseudoType, csvError(file, err)
		}
		atys := make(map[string]cty.Type, len(headers))
		for _, name := range headers {
			if _, exists := atys[name]; exists {
				return cty.DynamicPseudoType, &dataError{file: file, line: 1, msg: fmt.Sprintf("duplicate column name %q", name)}
			}
			atys[name] = cty.String
		}
		return cty.List(cty.Object(atys)), nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		str, marks := args[0].Unmark()
		file := fileOf(marks)
		ety := retType.ElementType()
		cr := csv.NewReader(strings.NewReader(str.AsString()))
		cr.FieldsPerRecord = len(ety.AttributeTypes())
		cr.ReuseRecord = true
		headers, err := cr.Read()
		if err != nil {
			return cty.DynamicVal, csvError(file, err)
		}
		headers = append([]string(nil), headers...)
		var rows []cty.Value
		for {
			cols, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return cty.DynamicVal, csvError(file, err)
			}
			vals := make(map[string]cty.Value, len(cols))
			for i, s := range cols {
				vals[headers[i]] = cty.StringVal(s)
			}
			row := cty.ObjectVal(vals)
			if file != "" {
				line, _ := cr.FieldPos(0)
				row = row.Mark(dataRow{file: file, line: line})
			}
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			return cty.ListValEmpty(ety).WithMarks(marks), nil
		}
		return cty.ListVal(rows).WithMarks(marks), nil
	},
})

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &dataError{file: file, line: pe.Line, msg: pe.Err.Error()}
	}
	return &dataError{file: file, msg: err.Error()}
}

// dataDecodeFunc wraps a decoder (jsondecode, yamldecode) so that text
// read with repofile() names its file in errors and the decoded value
// keeps the file's mark.
func dataDecodeFunc(f function.Function) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      []function.Parameter{{Name: "str", Type: cty.String, AllowMarked: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			str, marks := args[0].Unmark()
			ty, err := f.ReturnTypeForValues([]cty.Value{str})
			if err != nil {
				return ty, &dataError{file: fileOf(marks), msg: err.Error()}
			}
			return ty, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			str, marks := args[0].Unmark()
			v, err := f.Call([]cty.Value{str})
			if err != nil {
				return cty.DynamicVal, &dataError{file: fileOf(marks), msg: err.Error()}
			}
			return v.WithMarks(marks), nil
		},
	})
}
