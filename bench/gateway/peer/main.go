// The benchmark peer: grpc-gateway (Debian's 1.6.4) in front of the Catalog,
// built offline in GOPATH mode by bench/gateway/run.sh. It prints
// "grpc-gateway http=HOST:PORT" once it listens.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	catalogv1 "github.com/genesis-mesh/genesis/gen/go/genesis/catalog/v1"
	"github.com/grpc-ecosystem/grpc-gateway/runtime"
	"google.golang.org/grpc"
)

func main() {
	backend := flag.String("backend", "", "the catalog's gRPC address (host:port)")
	listen := flag.String("listen", "127.0.0.1:0", "HTTP listen address")
	flag.Parse()
	if *backend == "" {
		log.Fatal("--backend is required")
	}
	// Like for like with genesis-gateway: lowerCamel JSON names, default values
	// omitted (grpc-gateway 1.6.4's default marshaler uses proto names).
	mux := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard,
		&runtime.JSONPb{OrigName: false, EmitDefaults: false}))
	opts := []grpc.DialOption{grpc.WithInsecure()}
	if err := catalogv1.RegisterCatalogServiceHandlerFromEndpoint(context.Background(), mux,
		*backend, opts); err != nil {
		log.Fatalf("register: %v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	fmt.Printf("grpc-gateway http=%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, mux))
}
