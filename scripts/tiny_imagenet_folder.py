"""Write some Tiny ImageNet classes as a folder of class folders (the ImageFolder layout).

    python scripts/tiny_imagenet_folder.py ../shared/datasets/tiny-imagenet-200-32px.tar.gz data/tiny-folder \
        --classes 10 --train 200 --val 50

writes data/tiny-folder/train/<wnid>/*.JPEG and data/tiny-folder/val/<wnid>/*.JPEG (the first
--classes wnids in sorted order, the first --train training and --val validation images of
each), or with --flat data/tiny-folder/<wnid>/*.JPEG holding both, for ``val_fraction`` to split.
The folder is then a study's ``dataset: folder`` with ``data_dir: data/tiny-folder``.
"""

import argparse
import tarfile
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="tiny-imagenet-200-32px.tar.gz (or the 64 px .zip's tar)")
    parser.add_argument("out", type=Path, help="the folder to write")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--train", type=int, default=200, help="training images per class")
    parser.add_argument("--val", type=int, default=50, help="validation images per class")
    parser.add_argument("--flat", action="store_true", help="one set of class folders, no train/ val/")
    args = parser.parse_args(argv)
    # One pass over the archive (a .tar.gz cannot seek back cheaply); val images wait in memory
    # for val_annotations.txt, which comes after them.
    wanted, val_of, val_images, counts = None, {}, {}, {}

    def write(side, wnid, file, data):
        if wnid not in wanted or counts.get((side, wnid), 0) >= (args.train if side == "train" else args.val):
            return
        counts[(side, wnid)] = counts.get((side, wnid), 0) + 1
        folder = args.out / wnid if args.flat else args.out / side / wnid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file).write_bytes(data)

    with tarfile.open(args.archive, mode="r|*") as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            parts = name.split("/")
            if not member.isfile():
                continue
            if name == "tiny-imagenet-200/wnids.txt":
                wanted = set(sorted(archive.extractfile(member).read().decode().split())[:args.classes])
            elif name == "tiny-imagenet-200/val/val_annotations.txt":
                for line in archive.extractfile(member).read().decode().splitlines():
                    file, wnid = line.split("\t")[:2]
                    val_of[file] = wnid
            elif name.endswith((".JPEG", ".jpeg", ".jpg")) and wanted is not None:
                if parts[1] == "train":
                    write("train", parts[2], parts[-1], archive.extractfile(member).read())
                elif parts[1] == "val":
                    val_images[parts[-1]] = archive.extractfile(member).read()
    for file in sorted(val_images, key=lambda f: int("".join(filter(str.isdigit, f)) or 0)):
        write("val", val_of.get(file), file, val_images[file])
    print(f"{len(wanted)} classes written to {args.out}")


if __name__ == "__main__":
    main()
