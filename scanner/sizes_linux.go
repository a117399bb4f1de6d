package scanner

import "golang.org/x/sys/unix"

// exactSizes reports whether the file system of the open folder fd
// reports the sizes of its regular files as they are, so that an empty
// file need not be read and a read may stop at the size: the disk and
// memory file systems below. Others are read to their end: /proc and
// /sys say 0 for files that hold text, and a FUSE file system may say
// anything.
func exactSizes(fd int) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC,
		unix.TMPFS_MAGIC, unix.OVERLAYFS_SUPER_MAGIC, unix.F2FS_SUPER_MAGIC,
		unix.BCACHEFS_SUPER_MAGIC, unix.SQUASHFS_MAGIC, unix.EROFS_SUPER_MAGIC_V1,
		zfsSuperMagic:
		return true
	}
	return false
}

// zfsSuperMagic is OpenZFS's f_type, which x/sys/unix does not name.
const zfsSuperMagic = 0x2fc12fc1
