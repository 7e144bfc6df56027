# MB_CHECK_CFLAGS(VARIABLE, FLAG...)
# --------------------------------
# Append to VARIABLE each FLAG that the C compiler accepts without a
# diagnostic.  Each flag is probed alone together with -Werror so that an
# unknown warning option is not silently ignored.
AC_DEFUN([MB_CHECK_CFLAGS], [
  for mb_flag in $2; do
    AC_MSG_CHECKING([whether $CC accepts $mb_flag])
    mb_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $mb_flag"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); $1="$$1 $mb_flag"],
      [AC_MSG_RESULT([no])])
    CFLAGS=$mb_save_CFLAGS
  done
])

# MB_CHECK_LDFLAG(VARIABLE, FLAG)
# -------------------------------
# Append FLAG to VARIABLE if linking a trivial program with it works.
AC_DEFUN([MB_CHECK_LDFLAG], [
  AC_MSG_CHECKING([whether the linker accepts $2])
  mb_save_LDFLAGS=$LDFLAGS
  LDFLAGS="$LDFLAGS $2"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes]); $1="$$1 $2"],
    [AC_MSG_RESULT([no])])
  LDFLAGS=$mb_save_LDFLAGS
])
