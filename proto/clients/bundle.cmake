# Assembles the proto bundle: the Genesis contracts plus every .proto they import, so that
# protoc, buf or grpc_tools compile them with the bundle as the only include path.
# Run with cmake -P; every input is a -D variable:
#   SRC           proto/ of the source tree (genesis/**, vendored google/**, clients/bundle/*)
#   GOOGLEAPIS    Debian's googleapis dir (google/api/*.proto, google/rpc/*.proto)
#   GRPC_PROTO    Debian's grpc-proto dir (grpc/health, grpc/reflection)
#   PROTOC        the protoc executable
#   OUT           the bundle directory to (re)create
#   TARBALL       the .tar.gz to write (its top-level directory is OUT's name)
foreach(v SRC GOOGLEAPIS GRPC_PROTO PROTOC OUT TARBALL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "bundle.cmake: -D${v}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${OUT} ${TARBALL})
file(MAKE_DIRECTORY ${OUT})

# Third-party first, copied at build time from the Debian packages that ship them.
file(GLOB api_protos ${GOOGLEAPIS}/google/api/*.proto)
file(GLOB rpc_protos ${GOOGLEAPIS}/google/rpc/*.proto)
if(NOT api_protos OR NOT rpc_protos)
  message(FATAL_ERROR "bundle.cmake: no google/api or google/rpc protos in ${GOOGLEAPIS} "
                      "(Debian package golang-github-gogo-googleapis-dev)")
endif()
file(COPY ${api_protos} DESTINATION ${OUT}/google/api)
file(COPY ${rpc_protos} DESTINATION ${OUT}/google/rpc)
foreach(p grpc/health/v1/health.proto grpc/reflection/v1/reflection.proto
          grpc/reflection/v1alpha/reflection.proto)
  if(NOT EXISTS ${GRPC_PROTO}/${p})
    message(FATAL_ERROR "bundle.cmake: ${GRPC_PROTO}/${p} missing (Debian package grpc-proto)")
  endif()
  get_filename_component(d ${p} DIRECTORY)
  file(COPY ${GRPC_PROTO}/${p} DESTINATION ${OUT}/${d})
endforeach()
# Vendored ones (what Debian does not ship) win over the packaged copies.
file(COPY ${SRC}/google DESTINATION ${OUT} FILES_MATCHING PATTERN "*.proto")
file(COPY ${SRC}/genesis DESTINATION ${OUT} FILES_MATCHING PATTERN "*.proto")
file(COPY ${SRC}/clients/bundle/README.md ${SRC}/clients/bundle/buf.yaml DESTINATION ${OUT})

# The descriptor set, built from the bundle alone (google/protobuf/* come with every protobuf
# toolchain): it fails here when an import is missing.
file(GLOB_RECURSE files RELATIVE ${OUT} ${OUT}/*.proto)
list(SORT files)
execute_process(
  COMMAND ${PROTOC} -I ${OUT} --include_imports --include_source_info
          --descriptor_set_out=${OUT}/genesis.binpb ${files}
  WORKING_DIRECTORY ${OUT}
  RESULT_VARIABLE rc
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle.cmake: protoc could not compile the bundle:\n${err}")
endif()

get_filename_component(parent ${OUT} DIRECTORY)
get_filename_component(name ${OUT} NAME)
# A fixed mtime, so that rebuilding from the same inputs changes nothing but the order.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E tar czf ${TARBALL} --format=gnutar "--mtime=1970-01-01 00:00:00 UTC"
          -- ${name}
  WORKING_DIRECTORY ${parent}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${TARBALL})
  message(FATAL_ERROR "bundle.cmake: could not write ${TARBALL}")
endif()
