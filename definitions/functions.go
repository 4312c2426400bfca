package definitions

import (
	"math/big"
	"net"

	"github.com/apparentlymart/go-cidr/cidr"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	yaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// pureFunctions are the functions every expression may call besides env(),
// file() and repofile(): go-cty's standard library under Terraform's
// names, try() and can(), and the network functions written with
// go-cidr. None of them reads anything outside its arguments. csvdecode,
// jsondecode and yamldecode are wrapped (dataDecodeFunc) so that the
// values they decode from a repofile() remember the file and, for CSV,
// the line they came from.
func pureFunctions() map[string]function.Function {
	return map[string]function.Function{
		// Strings.
		"upper":      stdlib.UpperFunc,
		"lower":      stdlib.LowerFunc,
		"title":      stdlib.TitleFunc,
		"join":       stdlib.JoinFunc,
		"split":      stdlib.SplitFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"replace":    stdlib.ReplaceFunc,
		"regex":      stdlib.RegexFunc,
		"regexall":   stdlib.RegexAllFunc,
		"substr":     stdlib.SubstrFunc,
		"strlen":     stdlib.StrlenFunc,
		"trim":       stdlib.TrimFunc,
		"trimspace":  stdlib.TrimSpaceFunc,
		"trimprefix": stdlib.TrimPrefixFunc,
		"trimsuffix": stdlib.TrimSuffixFunc,
		"chomp":      stdlib.ChompFunc,
		"indent":     stdlib.IndentFunc,
		// Numbers.
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,
		// Collections.
		"range":           stdlib.RangeFunc,
		"length":          stdlib.LengthFunc,
		"merge":           stdlib.MergeFunc,
		"concat":          stdlib.ConcatFunc,
		"flatten":         stdlib.FlattenFunc,
		"keys":            stdlib.KeysFunc,
		"values":          stdlib.ValuesFunc,
		"lookup":          stdlib.LookupFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"index":           stdlib.IndexFunc,
		"reverse":         stdlib.ReverseListFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"zipmap":          stdlib.ZipmapFunc,
		"setunion":        stdlib.SetUnionFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setproduct":      stdlib.SetProductFunc,
		// Conversions.
		"tostring": stdlib.MakeToFunc(cty.String),
		"tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool":   stdlib.MakeToFunc(cty.Bool),
		"tolist":   stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset":    stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":    stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"try":      tryfunc.TryFunc,
		"can":      tryfunc.CanFunc,
		// Data.
		"csvdecode":  csvDecodeFunc,
		"jsondecode": dataDecodeFunc(stdlib.JSONDecodeFunc),
		"jsonencode": stdlib.JSONEncodeFunc,
		"yamldecode": dataDecodeFunc(yaml.YAMLDecodeFunc),
		"yamlencode": yaml.YAMLEncodeFunc,
		// Network.
		"cidrhost":    cidrHostFunc,
		"cidrnetmask": cidrNetmaskFunc,
		"cidrsubnet":  cidrSubnetFunc,
	}
}

// cidrHostFunc is Terraform's cidrhost(prefix, hostnum): the address of
// host number hostnum in prefix; a negative number counts from the end.
var cidrHostFunc = function.New(&function.Spec{
	Description: "The IP address of a host number within an IP network prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "hostnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		num, acc := args[1].AsBigFloat().Int(nil)
		if acc != big.Exact {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(1, "the host number must be a whole number")
		}
		ip, err := cidr.HostBig(network, num)
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(1, err)
		}
		return cty.StringVal(ip.String()), nil
	},
})

// cidrNetmaskFunc is Terraform's cidrnetmask(prefix): the IPv4 netmask of
// a prefix in dotted-decimal form.
var cidrNetmaskFunc = function.New(&function.Spec{
	Description: "The dotted-decimal netmask of an IPv4 network prefix.",
	Params:      []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:        function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		if network.IP.To4() == nil {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "only IPv4 prefixes have a netmask")
		}
		return cty.StringVal(net.IP(network.Mask).String()), nil
	},
})

// cidrSubnetFunc is Terraform's cidrsubnet(prefix, newbits, netnum).
var cidrSubnetFunc = function.New(&function.Spec{
	Description: "A subnet address within an IP network prefix.",
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "newbits", Type: cty.Number},
		{Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		_, network, err := net.ParseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(0, "invalid CIDR expression: %s", err)
		}
		newbits, acc := args[1].AsBigFloat().Int64()
		if acc != big.Exact || newbits < 0 || newbits > 128 {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(1, "newbits must be a whole number from 0 to 128")
		}
		num, acc := args[2].AsBigFloat().Int(nil)
		if acc != big.Exact {
			return cty.UnknownVal(cty.String), function.NewArgErrorf(2, "netnum must be a whole number")
		}
		sub, err := cidr.SubnetBig(network, int(newbits), num)
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(2, err)
		}
		return cty.StringVal(sub.String()), nil
	},
})
