//! The ELF object model: programs, functions, maps, global data and externs.
