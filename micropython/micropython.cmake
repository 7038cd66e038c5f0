# Top-level file for CMake-based ports (esp32, rp2, ...), as MicroPython's
# docs/develop/cmodules.rst lays it out:
#   make USER_C_MODULES=/path/to/mpickle/micropython/micropython.cmake
# Make-based ports take the folder instead: USER_C_MODULES=/path/to/mpickle/micropython
include(${CMAKE_CURRENT_LIST_DIR}/mpickle/micropython.cmake)
