# mpickle as a MicroPython user C module, for CMake-based ports (esp32, rp2...):
#   make USER_C_MODULES=/path/to/mpickle/micropython/micropython.cmake
# (which includes this file)
# or include() this file from your own top-level micropython.cmake.
#
# Feature switches (CMake variables, ON/OFF; e.g. make ... MPICKLE_DUMP=OFF is not
# passed through by every port, so set them in your top-level file):
#   MPICKLE_DUMP      dumps/dump/Pickler                       (default ON)
#   MPICKLE_LOAD      loads/load/Unpickler                     (default ON)
#   MPICKLE_TEXT      decimal text numbers of protocols 0/1    (default ON)
#   MPICKLE_MESSAGES  detailed error messages from the core    (default ON)
# numpy arrays <-> ulab arrays (mp_ulab.c, core_ndarray.c) are compiled in when ulab
# is a user module of the same firmware (its micropython.cmake defines
# MODULE_ULAB_ENABLED=1 for the usermod target); define MICROPY_PY_MPICKLE_ULAB=0 to leave them out.
option(MPICKLE_DUMP "mpickle: writer (dumps, dump, Pickler)" ON)
option(MPICKLE_LOAD "mpickle: reader (loads, load, Unpickler)" ON)
option(MPICKLE_TEXT "mpickle: decimal text numbers (protocols 0/1)" ON)
option(MPICKLE_MESSAGES "mpickle: detailed core error messages" ON)

add_library(usermod_mpickle INTERFACE)

target_sources(usermod_mpickle INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modmpickle.c
    ${CMAKE_CURRENT_LIST_DIR}/mp_registry.c
    ${CMAKE_CURRENT_LIST_DIR}/mp_dump.c
    ${CMAKE_CURRENT_LIST_DIR}/mp_load.c
    ${CMAKE_CURRENT_LIST_DIR}/mp_aload.c
    ${CMAKE_CURRENT_LIST_DIR}/mp_ulab.c
    ${CMAKE_CURRENT_LIST_DIR}/core_decoder.c
    ${CMAKE_CURRENT_LIST_DIR}/core_writer.c
    ${CMAKE_CURRENT_LIST_DIR}/core_numtext.c
    ${CMAKE_CURRENT_LIST_DIR}/core_util.c
    ${CMAKE_CURRENT_LIST_DIR}/core_compat_names.c
    ${CMAKE_CURRENT_LIST_DIR}/core_error.c
    ${CMAKE_CURRENT_LIST_DIR}/core_opcodes.c
    ${CMAKE_CURRENT_LIST_DIR}/core_ndarray.c
)

target_include_directories(usermod_mpickle INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_CURRENT_LIST_DIR}/../../include
)

macro(mpickle_flag var name)
    if(${var})
        target_compile_definitions(usermod_mpickle INTERFACE ${name}=1)
    else()
        target_compile_definitions(usermod_mpickle INTERFACE ${name}=0)
    endif()
endmacro()

target_compile_definitions(usermod_mpickle INTERFACE MPK_WITH_LIBC_ALLOC=0)
mpickle_flag(MPICKLE_DUMP MPK_WITH_WRITER)
mpickle_flag(MPICKLE_LOAD MPK_WITH_DECODER)
mpickle_flag(MPICKLE_TEXT MPK_WITH_TEXT_NUMBERS)
mpickle_flag(MPICKLE_MESSAGES MPK_WITH_MESSAGES)

target_link_libraries(usermod INTERFACE usermod_mpickle)
