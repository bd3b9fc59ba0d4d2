// decode_file.cpp - files by name: open, stat, access, directories, links, modes,
// owners, extended attributes.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>

#include "decoder.h"

namespace dunetrace::decode {

namespace {

constexpr Named kOpenFlags[] = {
    {0100, "O_CREAT"},        {0200, "O_EXCL"},       {0400, "O_NOCTTY"},    {01000, "O_TRUNC"},
    {02000, "O_APPEND"},      {04000, "O_NONBLOCK"},  {04010000, "O_SYNC"},  {010000, "O_DSYNC"},
    {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"}, {0400000, "O_NOFOLLOW"}, {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"},  {010000000, "O_PATH"},  {020200000, "O_TMPFILE"}, {0200000, "O_DIRECTORY"},
    {020000, "FASYNC"},
};

constexpr Named kAccessModes[] = {{4, "R_OK"}, {2, "W_OK"}, {1, "X_OK"}};
constexpr Named kAtFlags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_EACCESS"}, {0x400, "AT_SYMLINK_FOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"},     {0x1000, "AT_EMPTY_PATH"}, {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"}, {0x8000, "AT_RECURSIVE"},
};
constexpr Named kStatxAtFlags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x400, "AT_SYMLINK_FOLLOW"}, {0x800, "AT_NO_AUTOMOUNT"},
    {0x1000, "AT_EMPTY_PATH"},      {0x2000, "AT_STATX_FORCE_SYNC"}, {0x4000, "AT_STATX_DONT_SYNC"},
};
constexpr Named kUnlinkatFlags[] = {{0x200, "AT_REMOVEDIR"}};
constexpr Named kFileTypes[] = {
    {0140000, "S_IFSOCK"}, {0120000, "S_IFLNK"}, {0100000, "S_IFREG"}, {060000, "S_IFBLK"},
    {040000, "S_IFDIR"},   {020000, "S_IFCHR"},  {010000, "S_IFIFO"},
};
constexpr Named kModeBits[] = {{04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}};
constexpr Named kRenameFlags[] = {{1, "RENAME_NOREPLACE"}, {2, "RENAME_EXCHANGE"}, {4, "RENAME_WHITEOUT"}};
constexpr Named kMemfdFlags[] = {{1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"}};
constexpr Named kStatxMask[] = {
    {0x7ff, "STATX_BASIC_STATS"}, {1, "STATX_TYPE"},     {2, "STATX_MODE"},     {4, "STATX_NLINK"},
    {8, "STATX_UID"},             {0x10, "STATX_GID"},   {0x20, "STATX_ATIME"}, {0x40, "STATX_MTIME"},
    {0x80, "STATX_CTIME"},        {0x100, "STATX_INO"},  {0x200, "STATX_SIZE"}, {0x400, "STATX_BLOCKS"},
    {0x800, "STATX_BTIME"},       {0x1000, "STATX_MNT_ID"}, {0x2000, "STATX_DIOALIGN"},
};
constexpr Named kStatxAttrs[] = {
    {0x4, "STATX_ATTR_COMPRESSED"}, {0x10, "STATX_ATTR_IMMUTABLE"}, {0x20, "STATX_ATTR_APPEND"},
    {0x40, "STATX_ATTR_NODUMP"},    {0x800, "STATX_ATTR_ENCRYPTED"}, {0x1000, "STATX_ATTR_AUTOMOUNT"},
    {0x2000, "STATX_ATTR_MOUNT_ROOT"}, {0x100000, "STATX_ATTR_VERITY"}, {0x200000, "STATX_ATTR_DAX"},
};

std::string mode_text(uint32_t mode, bool with_type) {
  std::string s;
  if (with_type) s = xlat(mode & 0170000, kFileTypes) + "|";
  if (mode & 07000) s += flags(mode & 07000, kModeBits) + "|";
  return s + octal(mode & 0777);
}

std::string makedev_text(uint64_t dev) {
  auto major = static_cast<uint32_t>(((dev >> 32) & 0xfffff000) | ((dev >> 8) & 0xfff));
  auto minor = static_cast<uint32_t>(((dev >> 12) & 0xffffff00) | (dev & 0xff));
  return fmt::format("makedev({}, {})", c_hex(major), c_hex(minor));
}

void open_tail(Ctx& c, int flags_arg) {
  uint64_t f = c.arg(flags_arg);
  c.push(open_flags(f));
  if ((f & 0100) || (f & 020000000)) c.push(octal(c.arg(flags_arg + 1) & 07777));
}
void open_(Ctx& c) {
  c.push(c.path(0));
  open_tail(c, 1);
}
void openat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  open_tail(c, 2);
}
void creat_(Ctx& c) {
  c.push(c.path(0));
  c.push(octal(c.arg(1) & 07777));
}

Value stat_arg(Ctx& c, int i) {
  const uint8_t* st = c.ok() ? c.object(i, 144) : nullptr;
  return st ? stat_value(st) : c.ptr(i);
}
void stat_(Ctx& c) {
  c.push(c.path(0));
  c.push(stat_arg(c, 1));
}
void fstat_(Ctx& c) {
  c.push(c.fd(0));
  c.push(stat_arg(c, 1));
}
void newfstatat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(stat_arg(c, 2));
  c.push(flags(c.arg(3), kAtFlags));
}

Value statx_value(const uint8_t* s) {
  Value v = Value::record();
  v.add("stx_mask", Value::txt(flags(load<uint32_t>(s, 0), kStatxMask)));
  v.add("stx_attributes", Value::txt(flags(load<uint64_t>(s, 8), kStatxAttrs)));
  v.add("stx_mode", Value::txt(mode_text(load<uint16_t>(s, 28), true)));
  v.add("stx_size", Value::txt(std::to_string(load<uint64_t>(s, 40))));
  v.truncated = true;
  return v;
}
void statx_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  // The sync type is a value in two bits: AT_STATX_SYNC_AS_STAT (0) first.
  uint64_t f = c.arg(2);
  std::string rest = flags(f, kStatxAtFlags, "");
  if (f & 0x6000)
    c.push(rest);
  else
    c.push(rest.empty() ? std::string("AT_STATX_SYNC_AS_STAT") : "AT_STATX_SYNC_AS_STAT|" + rest);
  c.push(flags(c.arg(3), kStatxMask));
  const uint8_t* s = c.ok() ? c.object(4, 256) : nullptr;
  c.push(s ? statx_value(s) : c.ptr(4));
}

void access_(Ctx& c) {
  c.push(c.path(0));
  c.push(flags(c.arg(1), kAccessModes, "F_OK"));
}
void faccessat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(flags(c.arg(2), kAccessModes, "F_OK"));
}
void faccessat2_(Ctx& c) {
  faccessat_(c);
  c.push(flags(c.arg(3), kAtFlags));
}

void getdents_(Ctx& c) {
  c.push(c.fd(0));
  const Blob* b = c.blob(1);
  Value p = c.ptr(1);
  if (c.ok() && b && b->bytes.size() == 4) {
    uint32_t n;
    std::memcpy(&n, b->bytes.data(), 4);
    p.comment = fmt::format("{} entries", n);
  }
  c.push(std::move(p));
  c.push(c.ulong(2));
}

void getcwd_(Ctx& c) {
  // The result counts the NUL; the string does not.
  if (c.ok()) {
    const Blob* b = c.blob(0);
    std::string s = b ? b->bytes : std::string();
    size_t nul = s.find('\0');
    if (nul != std::string::npos) s.resize(nul);
    Value v = b ? Value::str(s) : c.ptr(0);
    v.whole = true;
    c.push(std::move(v));
  } else {
    c.push(c.ptr(0));
  }
  c.push(c.ulong(1));
}

void path_only(Ctx& c) { c.push(c.path(0)); }
void path_mode(Ctx& c) {
  c.push(c.path(0));
  c.push(octal(c.arg(1) & 07777));
}
void dirfd_path_mode(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(octal(c.arg(2) & 07777));
}
void fd_mode(Ctx& c) {
  c.push(c.fd(0));
  c.push(octal(c.arg(1) & 07777));
}
void unlinkat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(flags(c.arg(2), kUnlinkatFlags));
}
void two_paths(Ctx& c) {
  c.push(c.path(0));
  c.push(c.path(1));
}
void renameat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(c.dirfd(2));
  c.push(c.path(3));
}
void renameat2_(Ctx& c) {
  renameat_(c);
  c.push(flags(c.arg(4), kRenameFlags));
}
void linkat_(Ctx& c) {
  renameat_(c);
  c.push(flags(c.arg(4), kAtFlags));
}
void symlinkat_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.dirfd(1));
  c.push(c.path(2));
}
void readlink_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.filled(1));
  c.push(c.ulong(2));
}
void readlinkat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(c.filled(2));
  c.push(c.ulong(3));
}
void chown_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.integer(1));
  c.push(c.integer(2));
}
void fchown_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.integer(1));
  c.push(c.integer(2));
}
void fchownat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(c.integer(2));
  c.push(c.integer(3));
  c.push(flags(c.arg(4), kAtFlags));
}
void umask_(Ctx& c) {
  c.push(octal(c.arg(0) & 0777));
  c.result(ResultStyle::kOctal);
}
void truncate_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.lng(1));
}
void memfd_create_(Ctx& c) {
  c.push(c.string(0));
  c.push(flags(c.arg(1), kMemfdFlags));
}
void utimensat_(Ctx& c) {
  c.push(c.dirfd(0));
  c.push(c.path(1));
  c.push(c.ptr(2));
  c.push(flags(c.arg(3), kAtFlags));
}
// linux/magic.h's names, as strace prints f_type.
constexpr Named kFsMagics[] = {
    {0xef53, "EXT2_SUPER_MAGIC"},      {0x01021994, "TMPFS_MAGIC"},       {0x9fa0, "PROC_SUPER_MAGIC"},
    {0x62656572, "SYSFS_MAGIC"},       {0x794c7630, "OVERLAYFS_SUPER_MAGIC"}, {0x9123683e, "BTRFS_SUPER_MAGIC"},
    {0x58465342, "XFS_SUPER_MAGIC"},   {0x63677270, "CGROUP2_SUPER_MAGIC"}, {0x27e0eb, "CGROUP_SUPER_MAGIC"},
    {0x1cd1, "DEVPTS_SUPER_MAGIC"},    {0x534f434b, "SOCKFS_MAGIC"},      {0x50495045, "PIPEFS_MAGIC"},
    {0x6969, "NFS_SUPER_MAGIC"},       {0x858458f6, "RAMFS_MAGIC"},       {0x73717368, "SQUASHFS_MAGIC"},
    {0x4d44, "MSDOS_SUPER_MAGIC"},     {0x9660, "ISOFS_SUPER_MAGIC"},     {0x65735546, "FUSE_SUPER_MAGIC"},
    {0x64626720, "DEBUGFS_MAGIC"},     {0x74726163, "TRACEFS_MAGIC"},     {0x73636673, "SECURITYFS_MAGIC"},
    {0xcafe4a11, "BPF_FS_MAGIC"},      {0x19800202, "MQUEUE_MAGIC"},      {0x42494e4d, "BINFMTFS_MAGIC"},
    {0x958458f6, "HUGETLBFS_MAGIC"},   {0x01021997, "V9FS_MAGIC"},        {0xf2f52010, "F2FS_SUPER_MAGIC"},
    {0x6e736673, "NSFS_MAGIC"},        {0x09041934, "ANON_INODE_FS_MAGIC"}, {0x5346544e, "NTFS_SB_MAGIC"},
};
constexpr Named kStatfsFlags[] = {
    {0x1, "ST_RDONLY"},     {0x2, "ST_NOSUID"},      {0x4, "ST_NODEV"},      {0x8, "ST_NOEXEC"},
    {0x10, "ST_SYNCHRONOUS"}, {0x20, "ST_VALID"},    {0x40, "ST_MANDLOCK"},  {0x400, "ST_NOATIME"},
    {0x800, "ST_NODIRATIME"}, {0x1000, "ST_RELATIME"}, {0x2000, "ST_NOSYMFOLLOW"},
};

// struct statfs (x86-64: eleven 8-byte fields but f_fsid, two ints).
Value statfs_value(Ctx& c, int i) {
  const uint8_t* f = c.ok() ? c.object(i, 88) : nullptr;
  if (!f) return c.ptr(i);
  auto u = [&](size_t off) { return Value::txt(std::to_string(load<uint64_t>(f, off))); };
  Value v = Value::record();
  v.add("f_type", Value::txt(xlat(load<uint64_t>(f, 0), kFsMagics, nullptr, true)));
  v.add("f_bsize", u(8));
  v.add("f_blocks", u(16));
  v.add("f_bfree", u(24));
  v.add("f_bavail", u(32));
  v.add("f_files", u(40));
  v.add("f_ffree", u(48));
  Value ids = Value::array();
  ids.add(Value::txt(c_hex(load<uint32_t>(f, 56))));
  ids.add(Value::txt(c_hex(load<uint32_t>(f, 60))));
  v.add("f_fsid", Value::record().add("val", std::move(ids)));
  v.add("f_namelen", u(64));
  v.add("f_frsize", u(72));
  v.add("f_flags", Value::txt(flags(load<uint64_t>(f, 80), kStatfsFlags)));
  return v;
}
void statfs_(Ctx& c) {
  c.push(c.path(0));
  c.push(statfs_value(c, 1));
}
void fstatfs_(Ctx& c) {
  c.push(c.fd(0));
  c.push(statfs_value(c, 1));
}

constexpr Named kXattrFlags[] = {{1, "XATTR_CREATE"}, {2, "XATTR_REPLACE"}};

// The value a getxattr returned: bytes (strace shows them as a string).
Value xattr_value(Ctx& c, int i) {
  if (!c.arg(i)) return Value::txt("NULL");
  return c.filled(i);
}
void getxattr_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.string(1));
  c.push(xattr_value(c, 2));
  c.push(c.ulong(3));
}
void fgetxattr_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.string(1));
  c.push(xattr_value(c, 2));
  c.push(c.ulong(3));
}
void setxattr_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.string(1));
  c.push(c.bytes(2, c.arg(3)));
  c.push(c.ulong(3));
  c.push(flags(c.arg(4), kXattrFlags));
}
void fsetxattr_(Ctx& c) {
  c.push(c.fd(0));
  c.push(c.string(1));
  c.push(c.bytes(2, c.arg(3)));
  c.push(c.ulong(3));
  c.push(flags(c.arg(4), kXattrFlags));
}
void listxattr_(Ctx& c) {
  c.push(c.path(0));
  c.push(c.arg(1) ? (c.filled(1)) : Value::txt("NULL"));
  c.push(c.ulong(2));
}

}  // namespace

std::string open_flags(uint64_t v) {
  static constexpr Named kAccess[] = {{0, "O_RDONLY"}, {1, "O_WRONLY"}, {2, "O_RDWR"}, {3, "O_ACCMODE"}};
  std::string s = xlat(v & 3, kAccess);
  uint64_t rest = v & ~3ull;
  if (rest) s += "|" + flags(rest, kOpenFlags);
  return s;
}

Value stat_value(const uint8_t* st) {
  Value v = Value::record();
  auto mode = load<uint32_t>(st, 24);
  v.add("st_mode", Value::txt(mode_text(mode, true)));
  uint32_t type = mode & 0170000;
  if (type == 020000 || type == 060000)
    v.add("st_rdev", Value::txt(makedev_text(load<uint64_t>(st, 40))));
  else
    v.add("st_size", Value::txt(std::to_string(load<int64_t>(st, 48))));
  v.truncated = true;
  return v;
}

const DecoderEntry kFileDecoders[] = {
    {SYS_open, open_}, {SYS_openat, openat_}, {SYS_creat, creat_},
    {SYS_stat, stat_}, {SYS_lstat, stat_}, {SYS_fstat, fstat_},
    {SYS_newfstatat, newfstatat_}, {SYS_statx, statx_}, {SYS_access, access_},
    {SYS_faccessat, faccessat_}, {SYS_faccessat2, faccessat2_}, {SYS_getdents64, getdents_},
    {SYS_getdents, getdents_}, {SYS_getcwd, getcwd_}, {SYS_chdir, path_only},
    {SYS_rmdir, path_only}, {SYS_unlink, path_only}, {SYS_chroot, path_only},
    {SYS_mkdir, path_mode}, {SYS_chmod, path_mode}, {SYS_mkdirat, dirfd_path_mode},
    {SYS_fchmodat, dirfd_path_mode}, {SYS_fchmod, fd_mode}, {SYS_unlinkat, unlinkat_},
    {SYS_rename, two_paths}, {SYS_link, two_paths}, {SYS_symlink, two_paths},
    {SYS_renameat, renameat_}, {SYS_renameat2, renameat2_}, {SYS_linkat, linkat_},
    {SYS_symlinkat, symlinkat_}, {SYS_readlink, readlink_}, {SYS_readlinkat, readlinkat_},
    {SYS_chown, chown_}, {SYS_lchown, chown_}, {SYS_fchown, fchown_},
    {SYS_fchownat, fchownat_}, {SYS_umask, umask_}, {SYS_truncate, truncate_},
    {SYS_memfd_create, memfd_create_}, {SYS_utimensat, utimensat_}, {SYS_statfs, statfs_},
    {SYS_fstatfs, fstatfs_}, {SYS_getxattr, getxattr_}, {SYS_lgetxattr, getxattr_},
    {SYS_fgetxattr, fgetxattr_}, {SYS_setxattr, setxattr_}, {SYS_lsetxattr, setxattr_},
    {SYS_fsetxattr, fsetxattr_}, {SYS_listxattr, listxattr_}, {SYS_llistxattr, listxattr_},
};
const size_t kFileDecodersCount = sizeof kFileDecoders / sizeof kFileDecoders[0];

}  // namespace dunetrace::decode
