# genesis_embed_migrations(<target> <function> <dir>)
# Compiles every <dir>/NNNN_*.sql into <target> as
#   std::vector<genesis::Migration> <function>();
# so a service binary carries its own schema and needs no files at run time.
function(genesis_embed_migrations target function dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/[0-9]*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${function}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DFUNCTION=${function} "-DFILES=${sql_files}"
            -P ${GENESIS_COMMON_DIR}/embed_migrations_gen.cmake
    DEPENDS ${sql_files} ${GENESIS_COMMON_DIR}/embed_migrations_gen.cmake
    COMMENT "Embedding migrations for ${function}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
