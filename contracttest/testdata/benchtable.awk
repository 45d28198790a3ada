# Reads "go test -bench -benchmem" output and prints the ratio table of the
# README, from the medians of each benchmark's runs. Used by "make bench".
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function verdict(ok) { return ok ? "yes" : "NO" }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	for (i = 2; i <= NF; i++) {
		if ($i == "ns/op") ns[name] = ns[name] " " $(i-1)
		if ($i == "allocs/op") allocs[name] = allocs[name] " " $(i-1)
	}
}
/^cpu:/ { sub(/^cpu: /, ""); cpu = $0 }
END {
	raw = median(ns["RawNetHTTP"]); gen = median(ns["GeneratedClient"]); wrap = median(ns["CreateLinkToken"])
	rawA = median(allocs["RawNetHTTP"]); wrapA = median(allocs["CreateLinkToken"]); genA = median(allocs["GeneratedClient"])
	val = median(ns["ValidateRequest"]); ex = median(ns["ValidatorExchange"]); naive = median(ns["ValidatorExchangeNaive"])
	tr = median(ns["Transport"])
	if (raw == 0 || wrap == 0 || ex == 0) { print "benchtable: missing benchmarks in the input"; exit 1 }
	printf "\nmedians of the runs above%s\n\n", (cpu != "" ? ", on " cpu : "")
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "comparison", "measured", "target", "holds"
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "---", "---", "---", "---"
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "generated client / raw net/http (ns/op)", sprintf("%.3fx (%d / %d ns)", gen / raw, gen, raw), "-", "-"
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "wrapper / raw net/http (ns/op)", sprintf("%.3fx (%d / %d ns)", wrap / raw, wrap, raw), "<= 1.10x", verdict(wrap / raw <= 1.10)
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "wrapper - raw net/http (allocs/op)", sprintf("%+d (%d vs %d; gen %d)", wrapA - rawA, wrapA, rawA, genA), "<= +20", verdict(wrapA - rawA <= 20)
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "pre-flight validation (ns/op)", sprintf("%.1f ns", val), "< 1000 ns", verdict(val < 1000)
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "naive exchange / prepared validator (ns/op)", sprintf("%.1fx faster", naive / ex), ">= 10x", verdict(naive / ex >= 10)
	printf "| %-46s | %-22s | %-10s | %-5s |\n", "validating transport / wrapper (ns/op)", sprintf("%.2fx (%d ns)", tr / wrap, tr), "-", "-"
}
