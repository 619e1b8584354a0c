//! ELF notes: a header of three 4-byte words (name size, descriptor size, type), then the name
//! and the descriptor, each padded to 4 bytes. One walker for every note reader.

/// One note of a note section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Note<'data> {
    /// Its position among the section's notes.
    pub index: usize,
    /// Its byte offset in the section.
    pub offset: usize,
    /// The owner's name, with its NUL (`b"stapsdt\0"`).
    pub name: &'data [u8],
    pub note_type: u32,
    pub desc: &'data [u8],
}

/// A note whose sizes run past its section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("note {index} (at {offset:#x}): {reason}")]
pub struct NoteError {
    pub index: usize,
    pub offset: usize,
    pub reason: String,
}

/// The notes of one section, in order; a malformed note ends the walk with its error.
#[derive(Debug, Clone)]
pub struct Notes<'data> {
    data: &'data [u8],
    little_endian: bool,
    offset: usize,
    index: usize,
}

impl<'data> Notes<'data> {
    /// Walks the note section `data`, whose words are in the given byte order.
    pub fn new(data: &'data [u8], little_endian: bool) -> Notes<'data> {
        Notes {
            data,
            little_endian,
            offset: 0,
            index: 0,
        }
    }

    fn next_note(&self) -> Result<(Note<'data>, usize), NoteError> {
        let (data, offset) = (self.data, self.offset);
        let bad = |reason: String| NoteError {
            index: self.index,
            offset,
            reason,
        };
        let header = data.get(offset..offset + 12).ok_or_else(|| {
            bad(format!(
                "truncated header ({} bytes left)",
                data.len() - offset
            ))
        })?;
        let name_size = word(&header[0..4], self.little_endian) as usize;
        let desc_size = word(&header[4..8], self.little_endian) as usize;
        let note_type = word(&header[8..12], self.little_endian);
        let name_start = offset + 12;
        let desc_start = name_size
            .checked_next_multiple_of(4)
            .and_then(|n| name_start.checked_add(n))
            .ok_or_else(|| bad(format!("name size {name_size} overflows")))?;
        let next = desc_size
            .checked_next_multiple_of(4)
            .and_then(|n| desc_start.checked_add(n))
            .ok_or_else(|| bad(format!("descriptor size {desc_size} overflows")))?;
        let name = data
            .get(name_start..name_start + name_size)
            .ok_or_else(|| bad(format!("name of {name_size} bytes runs past the section")))?;
        let desc = data
            .get(desc_start..desc_start + desc_size)
            .ok_or_else(|| {
                bad(format!(
                    "descriptor of {desc_size} bytes runs past the section"
                ))
            })?;
        let note = Note {
            index: self.index,
            offset,
            name,
            note_type,
            desc,
        };
        Ok((note, next))
    }
}

impl<'data> Iterator for Notes<'data> {
    type Item = Result<Note<'data>, NoteError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.data.len() {
            return None;
        }
        match self.next_note() {
            Ok((note, next)) => {
                self.offset = next;
                self.index += 1;
                Some(Ok(note))
            }
            Err(e) => {
                self.offset = self.data.len();
                Some(Err(e))
            }
        }
    }
}

fn word(bytes: &[u8], little_endian: bool) -> u32 {
    let bytes: [u8; 4] = bytes.try_into().unwrap_or_default();
    if little_endian {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    }
}

/// The descriptor of the first `Linux` note of type 0 holding 4 bytes: `LINUX_VERSION_CODE`
/// in the vDSO. A malformed note ends the search.
pub(super) fn linux_version_note(mut notes: Notes<'_>) -> Option<u32> {
    let little_endian = notes.little_endian;
    notes.find_map(|note| {
        let note = note.ok()?;
        (note.name == b"Linux\0" && note.note_type == 0 && note.desc.len() == 4)
            .then(|| word(note.desc, little_endian))
    })
}

/// A little-endian note section entry, as tests of note readers build them.
#[cfg(test)]
pub(crate) fn test_note(owner: &[u8], note_type: u32, desc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(owner.len() as u32).to_le_bytes());
    out.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    out.extend_from_slice(&note_type.to_le_bytes());
    out.extend_from_slice(owner);
    out.resize(out.len().next_multiple_of(4), 0);
    out.extend_from_slice(desc);
    out.resize(out.len().next_multiple_of(4), 0);
    out
}

#[cfg(test)]
mod tests {
    use super::test_note as note;
    use super::*;

    #[test]
    fn notes_walk_in_order_with_padding() {
        let mut data = note(b"GNU\0", 3, &[1, 2, 3]);
        data.extend(note(b"stapsdt\0", 3, &[9; 5]));
        let notes: Vec<_> = Notes::new(&data, true).map(Result::unwrap).collect();
        assert_eq!(notes.len(), 2);
        assert_eq!(
            (notes[0].name, notes[0].desc),
            (&b"GNU\0"[..], &[1, 2, 3][..])
        );
        assert_eq!((notes[1].index, notes[1].offset), (1, 20));
        assert_eq!(notes[1].desc, &[9; 5]);
    }

    #[test]
    fn malformed_notes_end_the_walk_with_their_error() {
        let good = note(b"Linux\0", 0, &[1, 2, 3, 4]);
        let errors = [
            (good[..7].to_vec(), "truncated header"),
            (
                good[..good.len() - 4].to_vec(),
                "descriptor of 4 bytes runs past",
            ),
            (
                {
                    let mut huge = good.clone();
                    huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
                    huge
                },
                "past",
            ),
        ];
        for (data, needle) in errors {
            let mut notes = Notes::new(&data, true);
            let error = notes.next().unwrap().unwrap_err();
            assert!(error.to_string().contains(needle), "{needle}: {error}");
            assert_eq!((error.index, error.offset), (0, 0));
            assert!(notes.next().is_none());
        }
    }

    #[test]
    fn linux_version_from_its_note_only() {
        assert_eq!(linux_version_note(Notes::new(&[], true)), None);
        assert_eq!(
            linux_version_note(Notes::new(&[6, 0, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0], true)),
            None
        );
        let mut data = note(b"GNU\0", 0, &[1, 2, 3, 4]);
        data.extend(note(b"Linux\0", 0, &0x060100u32.to_le_bytes()));
        assert_eq!(linux_version_note(Notes::new(&data, true)), Some(0x060100));
        let big_endian: Vec<u8> = note(b"Linux\0", 0, &0x060100u32.to_be_bytes())
            .chunks(4)
            .enumerate()
            .flat_map(|(i, w)| {
                let mut w = w.to_vec();
                if i < 3 {
                    w.reverse();
                }
                w
            })
            .collect();
        assert_eq!(
            linux_version_note(Notes::new(&big_endian, false)),
            Some(0x060100)
        );
    }
}
