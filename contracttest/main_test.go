package contracttest_test

import (
	"os"
	"testing"

	"github.com/mergelink/linktoken/contracttest"
)

// suiteCoverage records what this package's tests exercise of the spec:
// every mock newMock makes records into it.
var suiteCoverage = func() *contracttest.Coverage {
	cov, err := contracttest.NewCoverage()
	if err != nil {
		panic(err)
	}
	return cov
}()

// TestMain prints the suite's coverage of its own spec and fails when a
// rule of the spec or a documented status is exercised by no test.
func TestMain(m *testing.M) {
	os.Exit(suiteCoverage.Main(m, contracttest.Thresholds{contracttest.KindRule: 1, contracttest.KindStatus: 1, contracttest.KindOperation: 1}))
}
